import { expect } from 'chai';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { eventually, startFaultProxy, type ControlPlane, type FaultProxy } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { rejectionOf } from './helpers.js';

/** A TCP echo server that records what each connection received. */
class EchoServer {
  readonly sockets: Socket[] = [];
  readonly received: string[] = [];
  readonly errors: string[] = [];
  constructor(readonly server: Server) {
    server.on('connection', (socket) => {
      const index = this.sockets.push(socket) - 1;
      this.received[index] = '';
      socket.on('data', (chunk: Buffer) => {
        this.received[index] += chunk.toString();
        socket.write(chunk);
      });
      socket.on('error', (err: NodeJS.ErrnoException) => this.errors.push(err.code ?? err.message));
      socket.on('end', () => socket.end());
    });
  }
  static async start(): Promise<EchoServer> {
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new EchoServer(server);
  }
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A client socket that accumulates what it receives and how it ended. */
async function dial(port: number): Promise<{ socket: Socket; data: () => string; ended: Promise<string> }> {
  const socket = connect({ host: '127.0.0.1', port });
  let data = '';
  socket.on('data', (chunk: Buffer) => { data += chunk.toString(); });
  const ended = new Promise<string>((resolve) => {
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.once('end', () => resolve('FIN'));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, data: () => data, ended };
}

const written = (socket: Socket, text: string) => new Promise<void>((resolve, reject) => socket.write(text, (err) => (err ? reject(err) : resolve())));

describe('testing: fault proxy', () => {
  describe('over plain TCP', () => {
    let echo: EchoServer;
    let proxy: FaultProxy;
    const clients: Socket[] = [];
    beforeEach(async () => {
      echo = await EchoServer.start();
      proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echo.port } });
    });
    afterEach(async () => {
      for (const c of clients.splice(0)) c.destroy();
      await proxy.close();
      await echo.close();
    });
    const client = async () => {
      const c = await dial(proxy.port);
      clients.push(c.socket);
      return c;
    };

    it('passes bytes both ways and counts connections and bytes', async () => {
      const a = await client();
      await written(a.socket, 'hello');
      await eventually(() => a.data() === 'hello', { message: 'the echo through the proxy' });
      const b = await client();
      await written(b.socket, 'abc');
      await eventually(() => b.data() === 'abc', { message: 'the second echo' });

      expect(echo.received).to.deep.equal(['hello', 'abc']);
      const stats = proxy.stats();
      expect(stats).to.include({ connections: 2, open: 2, held: 0, bytesToServer: 8, bytesToClient: 8, cut: 0 });
      expect(proxy.connectionLog().map((c) => [c.bytesToServer, c.bytesToClient])).to.deep.equal([[5, 5], [3, 3]]);
    });

    it('black-holes open and new connections without losing bytes, and releases them on pass()', async () => {
      const open = await client();
      await written(open.socket, 'before');
      await eventually(() => open.data() === 'before', { message: 'the echo before the black hole' });

      proxy.blackhole();
      expect(proxy.mode).to.equal('blackhole');
      await written(open.socket, 'during');
      // A new connection completes at the TCP level (the kernel accepts it) but goes nowhere.
      const late = await client();
      await written(late.socket, 'late');
      // Proving that nothing arrives needs a window; 300 ms is ample on loopback.
      await delay(300);
      expect(echo.received).to.deep.equal(['before']);
      expect(echo.sockets).to.have.length(1);
      expect(open.data()).to.equal('before');
      expect(proxy.stats()).to.include({ open: 2, held: 2, bytesToServer: 6 });

      proxy.pass();
      await eventually(() => open.data() === 'beforeduring' && late.data() === 'late', { message: 'the held bytes after pass()' });
      expect(echo.received).to.deep.equal(['beforeduring', 'late']);
      expect(proxy.stats()).to.include({ connections: 2, open: 2, held: 0, bytesToServer: 16 });
    });

    it('cuts every open connection with an RST to both ends', async () => {
      const a = await client();
      const b = await client();
      await written(a.socket, 'x');
      await eventually(() => echo.sockets.length === 2 && a.data() === 'x', { message: 'two connections through' });

      expect(proxy.cut('reset')).to.equal(2);
      expect(await a.ended).to.equal('ECONNRESET');
      expect(await b.ended).to.equal('ECONNRESET');
      await eventually(() => echo.errors.filter((e) => e === 'ECONNRESET').length === 2, { message: 'the server side reset too' });
      expect(proxy.stats()).to.include({ open: 0, cut: 2 });
      expect(proxy.connectionLog().map((c) => c.endedBy)).to.deep.equal(['cut', 'cut']);

      // The proxy keeps serving new connections.
      const c = await client();
      await written(c.socket, 'again');
      await eventually(() => c.data() === 'again', { message: 'a new connection after the cut' });
    });

    it('cuts with a FIN when asked, also connections the black hole holds', async () => {
      const a = await client();
      await eventually(() => echo.sockets.length === 1, { message: 'the connection through' });
      proxy.blackhole();
      const held = await client();
      expect(proxy.cut('close')).to.equal(2);
      expect(await a.ended).to.equal('FIN');
      expect(await held.ended).to.equal('FIN');
      expect(echo.errors).to.deep.equal([]);
    });

    it('resets new connections in mode reset, and refuses everything once closed', async () => {
      proxy.setMode('reset');
      const socket = connect({ host: '127.0.0.1', port: proxy.port });
      clients.push(socket);
      const outcome = await new Promise<string>((resolve) => {
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        socket.once('end', () => resolve('FIN'));
      });
      expect(outcome).to.equal('ECONNRESET');
      expect(proxy.stats()).to.include({ connections: 1, refused: 1, open: 0 });
      expect(echo.sockets).to.have.length(0);

      await proxy.close();
      await proxy.close();
      expect(await rejectionOf(dial(proxy.port))).to.have.property('code', 'ECONNREFUSED');
      expect(() => proxy.pass()).to.throw(/closed/);
    });
  });

  describe('in front of the API server', () => {
    let plane: ControlPlane;
    let proxy: FaultProxy;
    before(async () => {
      plane = await sharedControlPlane();
    });
    beforeEach(async () => {
      proxy = await startFaultProxy({ target: plane.server });
    });
    afterEach(() => proxy.close());

    it('gives a KubeConfig that reaches the API server through it, still verifying TLS', async () => {
      const kubeConfig = proxy.kubeConfig(plane.kubeConfig);
      expect(kubeConfig.getCurrentCluster()?.server).to.equal(`https://127.0.0.1:${proxy.port}`);
      expect(kubeConfig.getCurrentCluster()?.skipTLSVerify).to.not.equal(true);
      expect(plane.kubeConfig.getCurrentCluster()?.server).to.equal(plane.server);
      const namespaces = await kubeConfig.makeApiClient(CoreV1Api).listNamespace();
      expect(namespaces.items.map((n) => n.metadata?.name)).to.include('default');
      expect(proxy.stats().connections).to.be.at.least(1);
      expect(proxy.stats().bytesToClient).to.be.above(0);
    });

    it('makes requests hang while black-holed, and completes them after pass()', async () => {
      const core = proxy.kubeConfig(plane.kubeConfig).makeApiClient(CoreV1Api);
      await core.readNamespace({ name: 'default' });
      proxy.blackhole();
      const pending = core.readNamespace({ name: 'default' });
      pending.catch(() => { /* observed below */ });
      // Proving that a request hangs needs a window; a loopback request takes milliseconds.
      const first = await Promise.race([pending.then(() => 'answered', () => 'failed'), delay(1_000).then(() => 'hanging')]);
      expect(first).to.equal('hanging');
      expect(proxy.stats().held).to.be.at.least(1);
      proxy.pass();
      // The request was held, not lost: it completes once traffic flows.
      expect((await pending).metadata?.name).to.equal('default');
    });

    it('ends an open watch when its connection is cut', async () => {
      const ns = await plane.createNamespace('proxy-watch');
      const watch = new Watch(proxy.kubeConfig(plane.kubeConfig));
      const events: string[] = [];
      let ended!: (err: unknown) => void;
      const done = new Promise<unknown>((resolve) => { ended = resolve; });
      const controller = await watch.watch(`/api/v1/namespaces/${ns}/configmaps`, {}, (type) => events.push(type), (err) => ended(err));
      try {
        await plane.kubeConfig.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'seen' } } });
        await eventually(() => events.includes('ADDED'), { message: 'the ADDED event through the proxy' });
        expect(proxy.cut('reset')).to.be.at.least(1);
        const err = await done;
        expect(err, 'the watch ended with an error').to.be.instanceOf(Error);
      } finally {
        controller.abort();
      }
    });
  });
});
