/**
 * Everything cloud-specific the controller does sits behind this one small interface, with
 * `gcp`, `aws` and `local` implementations (controller/cloud/<name>.ts). The gcp/aws ones talk to
 * the instance metadata server (GCP metadata / AWS IMDSv2 with a session token) and the clouds'
 * REST APIs with the VM's own identity.
 */
export interface ControllerCloud {
  readonly name: 'gcp' | 'aws' | 'local';
  /** Read one secret by reference (name / ARN) with the VM identity. */
  readSecret(reference: string): Promise<string>;
  /** Publish the session phase (GCP guest attributes, AWS tags, local file). Never secret text. */
  reportStatus(phase: string, detail?: Record<string, string>): Promise<void>;
  /** Delete this VM. Idempotent; must be awaited, with its own timeout, in the final step. */
  terminateSelf(): Promise<void>;
}
