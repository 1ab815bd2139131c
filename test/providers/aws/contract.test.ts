/** The shared provider contract, run for AWS: the real EC2 client against the EC2 Query/XML fake. */
import { describeProviderContract } from '../contract.js';
import { awsContractFixture } from './fixtures.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

describeProviderContract({ name: 'aws', setup: () => awsContractFixture() });
