// Preloaded (`node --import`) into processes started by startOperatorProcess(): it reads
// an inherited pipe whose only writer is the parent, so end-of-file means the parent is
// gone (even SIGKILLed, when it cannot clean up). The child then kills itself, so no
// operator outlives the test that started it.
import { Socket } from 'node:net';

const fd = Number(process.env['MAESTRO_ORPHAN_GUARD_FD']);
if (Number.isInteger(fd) && fd > 2) {
  delete process.env['MAESTRO_ORPHAN_GUARD_FD'];
  try {
    const pipe = new Socket({ fd, readable: true, writable: false });
    const die = (): void => { process.kill(process.pid, 'SIGKILL'); };
    pipe.on('data', () => { /* nothing is ever written */ });
    pipe.once('end', die);
    pipe.once('error', die);
    // The guard must not keep the process alive by itself.
    pipe.unref();
  } catch {
    // No such descriptor: started some other way; nothing to guard.
  }
}
