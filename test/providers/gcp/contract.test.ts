/** The shared provider contract, run for GCP: the real Compute client against the fake Compute REST API. */
import { describeProviderContract } from '../contract.js';
import { gcpContractFixture } from './fixtures.js';

describeProviderContract({ name: 'gcp', setup: () => gcpContractFixture() });
