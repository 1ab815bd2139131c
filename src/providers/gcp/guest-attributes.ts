/**
 * The guest-attribute names the controller writes and `status` reads: one place, shared by the
 * CLI and the controller. Guest attributes need no IAM role from the VM (the metadata server
 * accepts the write) and the CLI reads them with compute.instances.getGuestAttributes.
 */
export const guestAttributeNamespace = 'agentium';
export const phaseKey = 'phase';
/** queryPath for getGuestAttributes: everything the controller published. */
export const guestAttributeQueryPath = `${guestAttributeNamespace}/`;
