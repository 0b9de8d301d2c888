"""Live mode: talk to an agent in real time, in the terminal or in the browser.

- :mod:`bargein.live.console`: ``bargein console PATH`` (microphone and speaker, or typed
  lines spoken by the local TTS);
- :mod:`bargein.live.server`: ``bargein serve PATH`` (a WebSocket server and a web page);
- :mod:`bargein.live.agent_file`: how an agent file defines its agent and session;
- :mod:`bargein.live.events`: session events as plain records (printed or sent as JSON).

Audio devices and the WebSocket server need the extra ``live``
(``pip install 'bargein[live]'``); they are imported only when used.
"""
