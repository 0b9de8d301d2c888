"""Live mode: talk to an agent in real time, in the terminal or in the browser.

- :mod:`bargein.live.console`: ``bargein console PATH`` (microphone and speaker, or typed
  lines spoken by the local TTS);
- :mod:`bargein.live.server`: ``bargein serve PATH`` (a WebSocket server and a web page, or
  the OpenAI Realtime protocol), with :mod:`~bargein.live.native` and
  :mod:`~bargein.live.realtime` running one conversation in each protocol,
  :mod:`~bargein.live.access` (token, Host and Origin checks),
  :mod:`~bargein.live.admission` (who gets a session) and
  :mod:`~bargein.live.conversations` (bounded summaries of closed calls);
- :mod:`bargein.live.caller`: a scripted caller of the server, for load tests and
  benchmarks;
- :mod:`bargein.live.agent_file`: how an agent file defines its agent and session;
- :mod:`bargein.live.events`: session events as plain records (printed or sent as JSON).

Audio devices and the WebSocket server need the extra ``live``
(``pip install 'bargein[live]'``); they are imported only when used.
"""
