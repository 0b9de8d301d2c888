// bargein audio worklets: microphone capture (PCM16 frames) and agent playback with
// playout reports. Loaded by app.js with audioWorklet.addModule().

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = Math.round(sampleRate * 0.02);  // 20 ms frames
    this.buffer = new Int16Array(this.frame);
    this.filled = 0;
  }

  process(inputs, outputs) {
    const input = inputs[0];
    if (input && input.length > 0) {
      const samples = input[0];
      for (let i = 0; i < samples.length; i++) {
        const s = Math.max(-1, Math.min(1, samples[i]));
        this.buffer[this.filled++] = s < 0 ? s * 32768 : s * 32767;
        if (this.filled === this.frame) {
          this.port.postMessage(this.buffer.buffer, [this.buffer.buffer]);
          this.buffer = new Int16Array(this.frame);
          this.filled = 0;
        }
      }
    }
    if (outputs[0] && outputs[0][0]) outputs[0][0].fill(0);
    return true;
  }
}

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];  // {segment, data: Int16Array, offset}
    this.played = new Map();  // segment -> samples played
    this.flushed = new Set();
    this.paused = false;
    this.sinceReport = 0;
    this.reportEvery = Math.round(sampleRate * 0.02);
    this.port.onmessage = (e) => this.onMessage(e.data);
  }

  onMessage(msg) {
    if (msg.type === 'audio') {
      if (!this.played.has(msg.segment)) this.played.set(msg.segment, 0);
      this.queue.push({segment: msg.segment, data: new Int16Array(msg.data), offset: 0});
    } else if (msg.type === 'flush') {
      this.flushed.add(msg.segment);
      this.checkDone(msg.segment);
    } else if (msg.type === 'clear') {
      this.queue = this.queue.filter((c) => c.segment !== msg.segment);
      this.played.delete(msg.segment);
      this.flushed.delete(msg.segment);
      this.paused = false;  // a cleared segment also ends a pause
    } else if (msg.type === 'pause') {
      this.paused = true;
    } else if (msg.type === 'resume') {
      this.paused = false;
    }
  }

  checkDone(segment) {
    if (!this.flushed.has(segment)) return;
    if (this.queue.some((c) => c.segment === segment)) return;
    this.port.postMessage({type: 'done', segment, samples: this.played.get(segment) || 0});
    this.played.delete(segment);
    this.flushed.delete(segment);
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    out.fill(0);
    if (this.paused) return true;
    let i = 0;
    const touched = new Set();
    while (i < out.length && this.queue.length > 0) {
      const chunk = this.queue[0];
      const n = Math.min(out.length - i, chunk.data.length - chunk.offset);
      for (let k = 0; k < n; k++) out[i + k] = chunk.data[chunk.offset + k] / 32768;
      chunk.offset += n;
      i += n;
      this.played.set(chunk.segment, (this.played.get(chunk.segment) || 0) + n);
      touched.add(chunk.segment);
      this.sinceReport += n;
      if (chunk.offset >= chunk.data.length) {
        this.queue.shift();
        this.checkDone(chunk.segment);
      }
    }
    if (this.sinceReport >= this.reportEvery) {
      this.sinceReport = 0;
      for (const segment of touched) {
        if (this.played.has(segment)) {
          this.port.postMessage({type: 'played', segment, samples: this.played.get(segment)});
        }
      }
    }
    return true;
  }
}

registerProcessor('bargein-capture', CaptureProcessor);
registerProcessor('bargein-playback', PlaybackProcessor);
