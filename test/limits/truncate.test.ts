import { expect } from 'chai';
import { API_LIMITS, truncate, truncateConditionMessage, truncateEventMessage } from '../../lib/limits/index.js';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('limits: truncate', () => {
  it('leaves text within the limit untouched', () => {
    expect(truncate('short', 10)).to.equal('short');
    expect(truncate('x'.repeat(1024), 1024)).to.equal('x'.repeat(1024));
    expect(truncate('é'.repeat(512), 1024)).to.equal('é'.repeat(512)); // exactly 1024 bytes
  });

  it('cuts to the limit in UTF-8 bytes and marks the cut', () => {
    const cut = truncate('x'.repeat(2000), 1024);
    expect(bytes(cut)).to.equal(1024);
    expect(cut.endsWith('x ...')).to.equal(true);
  });

  it('never splits a character, whatever its width', () => {
    for (const char of ['é', '✓', '𝄞', '漢']) {
      for (let limit = 5; limit < 40; limit++) {
        const cut = truncate(char.repeat(100), limit);
        expect(bytes(cut), `${char} @ ${limit}`).to.be.at.most(limit);
        expect(cut.includes('\ufffd'), `${char} @ ${limit}`).to.equal(false);
        expect(cut.endsWith(' ...')).to.equal(true);
        expect(bytes(cut), `${char} @ ${limit}: as long as possible`).to.be.greaterThan(limit - bytes(char) - 1);
      }
    }
  });

  it('drops the suffix when the limit cannot hold it', () => {
    expect(truncate('abcdef', 3)).to.equal('abc');
    expect(truncate('abcdef', 0)).to.equal('');
  });

  it('cuts a 50 MiB message to the Event limit', () => {
    const huge = 'x'.repeat(50 * 1024 * 1024);
    expect(bytes(truncateEventMessage(huge))).to.equal(API_LIMITS.eventMessage);
  });

  it('has helpers for the Event message (1 KiB) and the condition message (32 KiB)', () => {
    expect(bytes(truncateEventMessage('e'.repeat(5000)))).to.equal(1024);
    expect(bytes(truncateConditionMessage('c'.repeat(100_000)))).to.equal(32_768);
    expect(truncateConditionMessage('fine')).to.equal('fine');
  });
});
