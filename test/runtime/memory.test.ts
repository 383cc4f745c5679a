import { expect } from 'chai';
import { ownHeapGrowthFlag } from '../../lib/runtime/memory.js';

describe('the memory mode and the process\u2019s own flags', () => {
  it('finds the flag that already decides the heap\u2019s growth on a command line, spelled as V8 reads it', () => {
    expect(ownHeapGrowthFlag([])).to.equal(undefined);
    expect(ownHeapGrowthFlag(['--max-semi-space-size=1', '--enable-source-maps'])).to.equal(undefined);
    expect(ownHeapGrowthFlag(['--max-semi-space-size=1', '--heap-growing-percent=50'])).to.equal('--heap-growing-percent=50');
    expect(ownHeapGrowthFlag(['--heap_growing_percent=0'])).to.equal('--heap_growing_percent=0');
    expect(ownHeapGrowthFlag(['--optimize-for-size'])).to.equal('--optimize-for-size');
    expect(ownHeapGrowthFlag(['--optimize_for_size'])).to.equal('--optimize_for_size');
    // The last one given is what V8 keeps.
    expect(ownHeapGrowthFlag(['--optimize-for-size', '--heap-growing-percent=300'])).to.equal('--heap-growing-percent=300');
    // Turning a flag off, or a longer flag that starts the same, decides nothing.
    expect(ownHeapGrowthFlag(['--no-optimize-for-size', '--optimize-for-size-extra', '--heap-growing-percentile=5'])).to.equal(undefined);
  });
});
