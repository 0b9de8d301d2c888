// bargein live page: microphone -> WebSocket -> agent session; agent audio -> speaker with
// playout reports; a live timeline of who spoke when, barge-ins and transcripts.
// Protocol: see bargein/live/protocol.py (binary = PCM16 audio, text = JSON control).
(() => {
  'use strict';
  const COLORS = {user: '#0f766e', agent: '#4338ca', barge: '#dc2626', grid: '#e5e7eb'};
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const $ = (id) => document.getElementById(id);
  const state = {
    events: [], ws: null, ctx: null, stream: null, segment: null, startedAt: null,
    userSpans: [], agentSpans: [], bargeIns: [], labels: [], closed: null,
  };
  window.bargein = state;  // for debugging and tests

  function now() {
    return state.startedAt === null ? 0 : (performance.now() - state.startedAt) / 1000;
  }

  function logLine(t, cls, text) {
    const div = document.createElement('div');
    div.innerHTML = `<span class="t">${t.toFixed(2).padStart(7)}</span> `;
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text;
    div.appendChild(span);
    const log = $('log');
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }

  function onEvent(ev) {
    state.events.push(ev);
    const t = ev.t;
    switch (ev.event) {
      case 'user_state_changed':
        $('user-state').textContent = ev.new;
        if (ev.new === 'speaking') state.userSpans.push([t, null]);
        else if (state.userSpans.length) state.userSpans[state.userSpans.length - 1][1] = t;
        break;
      case 'agent_state_changed':
        $('agent-state').textContent = ev.new;
        break;
      case 'agent_words_heard': {
        const last = state.agentSpans[state.agentSpans.length - 1];
        if (!last || last.speech !== ev.speech || last.end !== null) {
          state.agentSpans.push({speech: ev.speech, start: t, end: null, text: ''});
        }
        state.agentSpans[state.agentSpans.length - 1].text = ev.heard_text;
        break;
      }
      case 'speech_done':
        for (const s of state.agentSpans) if (s.speech === ev.speech && s.end === null) s.end = t;
        if (ev.started_at !== null) {
          logLine(t, 'agent', `agent${ev.interrupted ? ' (interrupted)' : ''}: ` +
                  (ev.interrupted ? ev.heard_text : ev.text));
        }
        break;
      case 'agent_interrupted':
        if (ev.reason === 'barge_in') {
          state.bargeIns.push(t);
          $('barge-count').textContent = String(state.bargeIns.length);
          for (const s of state.agentSpans) if (s.speech === ev.speech && s.end === null) s.end = t;
          logLine(t, 'barge', `barge-in: the agent stopped after "${ev.heard_text}"`);
        }
        break;
      case 'user_input_transcribed':
        if (ev.is_final) {
          state.labels.push({t, text: ev.transcript});
          logLine(t, 'user', `you: ${ev.transcript}${ev.discarded ? ' (discarded)' : ''}`);
        }
        break;
      case 'agent_false_interruption':
        logLine(t, 'agent', `false interruption, resumed: ${ev.resumed}`);
        break;
      case 'error':
        logLine(t, 'barge', `error in ${ev.source}: ${ev.error}`);
        break;
      default:
        break;
    }
  }

  function draw() {
    const canvas = $('timeline');
    const g = canvas.getContext('2d');
    const W = canvas.width, H = canvas.height, left = 60, right = W - 10;
    g.clearRect(0, 0, W, H);
    const end = Math.max(20, now() + 1);
    const x = (t) => left + (right - left) * Math.max(0, Math.min(1, t / end));
    g.strokeStyle = COLORS.grid;
    g.fillStyle = '#6b7280';
    g.font = '12px system-ui, sans-serif';
    const step = end > 120 ? 20 : end > 60 ? 10 : 5;
    for (let s = 0; s <= end; s += step) {
      g.beginPath(); g.moveTo(x(s), 10); g.lineTo(x(s), H - 22); g.stroke();
      g.fillText(`${s}s`, x(s) - 6, H - 6);
    }
    g.fillStyle = COLORS.user; g.fillText('you', 8, 52);
    g.fillStyle = COLORS.agent; g.fillText('agent', 8, 122);
    const lane = (y, color, spans) => {
      g.fillStyle = color;
      for (const [a, b] of spans) g.fillRect(x(a), y, Math.max(2, x(b) - x(a)), 36);
    };
    lane(32, COLORS.user, state.userSpans.map(([a, b]) => [a, b === null ? now() : b]));
    lane(102, COLORS.agent, state.agentSpans.map((s) => [s.start, s.end === null ? now() : s.end]));
    g.fillStyle = '#111827';
    for (const l of state.labels) g.fillText(l.text.slice(0, 60), x(l.t) - 40, 84);
    g.fillStyle = COLORS.barge;
    for (const t of state.bargeIns) {
      g.fillRect(x(t) - 1.5, 18, 3, 128);
      g.beginPath(); g.moveTo(x(t) - 7, 12); g.lineTo(x(t) + 7, 12); g.lineTo(x(t), 22);
      g.fill();
    }
  }

  function status(text) { $('status').textContent = text; }

  async function start() {
    $('start').disabled = true;
    try {
      let ctx;
      try { ctx = new AudioContext({sampleRate: 16000}); } catch (e) { ctx = new AudioContext(); }
      state.ctx = ctx;
      await ctx.audioWorklet.addModule('worklet.js');
      const stream = await navigator.mediaDevices.getUserMedia({audio: {
        channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true}});
      state.stream = stream;
      const capture = new AudioWorkletNode(ctx, 'bargein-capture',
                                           {numberOfOutputs: 1, outputChannelCount: [1]});
      const mute = ctx.createGain();
      mute.gain.value = 0;
      ctx.createMediaStreamSource(stream).connect(capture).connect(mute).connect(ctx.destination);
      const playback = new AudioWorkletNode(ctx, 'bargein-playback',
                                            {numberOfInputs: 0, outputChannelCount: [1]});
      playback.connect(ctx.destination);
      await ctx.resume();

      const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
      const query = token ? `?token=${encodeURIComponent(token)}` : '';
      const ws = new WebSocket(`${scheme}//${location.host}/ws${query}`);
      ws.binaryType = 'arraybuffer';
      state.ws = ws;
      let ready = false;
      ws.onopen = () => {
        ws.send(JSON.stringify({type: 'hello', protocol: 1, sample_rate: ctx.sampleRate}));
        status('connecting...');
      };
      capture.port.onmessage = (e) => { if (ready && ws.readyState === 1) ws.send(e.data); };
      playback.port.onmessage = (e) => { if (ws.readyState === 1) ws.send(JSON.stringify(e.data)); };
      ws.onmessage = (e) => {
        if (typeof e.data !== 'string') {
          playback.port.postMessage({type: 'audio', segment: state.segment, data: e.data},
                                    [e.data]);
          return;
        }
        const msg = JSON.parse(e.data);
        if (msg.type === 'ready') {
          ready = true;
          state.startedAt = performance.now();
          status(`connected (session ${msg.session}, ${ctx.sampleRate} Hz)`);
          $('stop').disabled = false;
        } else if (msg.type === 'segment') {
          state.segment = msg.segment;
        } else if (msg.type === 'event') {
          onEvent(msg);
        } else {
          playback.port.postMessage(msg);  // flush, clear, pause, resume
        }
      };
      ws.onclose = (e) => {
        state.closed = {code: e.code, reason: e.reason};
        status(`disconnected (${e.code}${e.reason ? ': ' + e.reason : ''})`);
        $('stop').disabled = true;
        stream.getTracks().forEach((tr) => tr.stop());
      };
    } catch (err) {
      status(`cannot start: ${err}`);
      $('start').disabled = false;
    }
  }

  $('start').onclick = start;
  $('stop').onclick = () => {
    if (state.ws) { state.ws.send(JSON.stringify({type: 'bye'})); }
  };
  setInterval(draw, 100);
  draw();
  if (params.get('autostart') === '1') start();
})();
