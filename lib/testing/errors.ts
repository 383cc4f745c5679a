import { MaestroError } from '../errors/index.js';

/**
 * The parts of a local control plane that run as processes.
 *
 * @example
 * ```ts
 * if (err instanceof ControlPlaneStartError && err.component === 'etcd') { ... }
 * ```
 */
export type ControlPlaneComponent = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok';

/**
 * The control plane's binaries could not be found (or built). The message says where
 * each was looked for and how to provide it.
 *
 * @example
 * ```ts
 * try { await controlPlaneAssets(); } catch (err) {
 *   if (err instanceof ControlPlaneAssetsError) console.error(err.message); // says how to build them
 * }
 * ```
 */
export class ControlPlaneAssetsError extends MaestroError {
  readonly code = 'ControlPlaneAssets';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A component failed to start: it exited, or was not ready by the deadline. Carries
 * the full command line and the tail of the component's log, so the cause (a rejected
 * flag, a port in use, a missing binary) is visible without digging for files.
 *
 * @example
 * ```ts
 * try { await startControlPlane({ apiServerFlags: { 'no-such-flag': 'x' } }); } catch (err) {
 *   if (err instanceof ControlPlaneStartError) console.error(err.component, err.commandLine, err.logTail);
 * }
 * ```
 */
export class ControlPlaneStartError extends MaestroError {
  readonly code = 'ControlPlaneStart';

  constructor(
    /** Which component failed. */
    readonly component: ControlPlaneComponent,
    /** Why, in one line (e.g. `exited with code 1`, `not ready after 60000 ms`). */
    readonly reason: string,
    /** The command as spawned: the binary, then each argument. */
    readonly command: readonly string[],
    /** The last lines of the component's log (stdout and stderr), oldest first. */
    readonly logTail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${component} failed to start: ${reason}\n` +
        `command: ${shellQuote(command)}\n` +
        `last log lines:\n${logTail.trimEnd() || '(empty log)'}`,
      options,
    );
  }

  /** The command as one shell-quoted line, ready to paste into a terminal. */
  get commandLine(): string {
    return shellQuote(this.command);
  }
}

/**
 * A condition did not hold before its deadline: in {@link eventually}, or in a helper of a
 * running control plane (a CRD not established, a restarted API server not ready).
 *
 * @example
 * ```ts
 * try { await plane.installCRDs([crd]); } catch (err) {
 *   if (err instanceof WaitTimeoutError) console.error(err.waitingFor, err.lastObserved);
 * }
 * ```
 */
export class WaitTimeoutError extends MaestroError {
  readonly code = 'WaitTimeout';
  constructor(
    /** What was awaited, e.g. `CRD widgets.example.com Established`. */
    readonly waitingFor: string,
    readonly timeoutMs: number,
    /** The last state or error seen while polling, if any. */
    readonly lastObserved?: string,
    options?: { cause?: unknown },
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${waitingFor}${lastObserved ? ` (last observed: ${lastObserved})` : ''}`, options);
  }
}

/**
 * A CustomResourceDefinition could not be installed: the input is not a CRD, a YAML
 * file could not be read, or the API server rejected its names.
 *
 * @example
 * ```ts
 * await plane.installCRDs(['config/crd/widgets.yaml']).catch((err) => {
 *   if (err instanceof CRDInstallError) console.error(err.crd, err.message);
 * });
 * ```
 */
export class CRDInstallError extends MaestroError {
  readonly code = 'CRDInstall';
  constructor(
    /** The CRD's name or the file it came from. */
    readonly crd: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`CRD ${crd}: ${message}`, options);
  }
}

/**
 * A method of a control plane was called after `stop()`.
 *
 * @example
 * ```ts
 * await plane.stop();
 * await plane.createNamespace(); // throws ControlPlaneStoppedError
 * ```
 */
export class ControlPlaneStoppedError extends MaestroError {
  readonly code = 'ControlPlaneStopped';
  constructor(operation: string) {
    super(`cannot ${operation}: the control plane was stopped`);
  }
}

/** Quotes argv for a POSIX shell, leaving plain words bare. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
