/**
 * The review objects the API server posts to webhooks: `AdmissionReview`
 * (admission.k8s.io/v1) and `ConversionReview` (apiextensions.k8s.io/v1), with the fields
 * Maestro reads and writes. client-node has no models for them (they are not API
 * resources).
 *
 * @module
 */
import type { KubernetesObject } from '@kubernetes/client-node';

/** Group, version and kind of the object under review. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** What the API server asks a validating or mutating webhook about. */
export interface AdmissionRequest {
  /** Echoed in the response. */
  uid: string;
  /** The kind of `object` (after the API server converted it to a version the webhook's rules name). */
  kind: GroupVersionKind;
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  /** The kind of the original request (before conversion). */
  requestKind?: GroupVersionKind;
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo?: { username?: string; uid?: string; groups?: string[] };
  /** The object as it would be stored (after earlier mutations); absent for DELETE. */
  object?: KubernetesObject | null;
  /** The existing object, for UPDATE and DELETE. */
  oldObject?: KubernetesObject | null;
  dryRun?: boolean;
  options?: unknown;
}

/** A webhook's answer. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  /** Why a request is refused (`message` is what the client sees). */
  status?: { status?: 'Success' | 'Failure'; code?: number; reason?: string; message?: string };
  /** Base64 of a JSON patch (RFC 6902), for mutating webhooks. */
  patch?: string;
  patchType?: 'JSONPatch';
  /** Shown by kubectl as `Warning: ...`. */
  warnings?: string[];
}

/** admission.k8s.io/v1 AdmissionReview. */
export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** apiextensions.k8s.io/v1 ConversionReview. */
export interface ConversionReview {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'ConversionReview';
  request?: { uid: string; desiredAPIVersion: string; objects: KubernetesObject[] };
  response?: {
    uid: string;
    convertedObjects: KubernetesObject[];
    result: { status: 'Success' | 'Failure'; message?: string };
  };
}
