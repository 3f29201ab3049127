export * from './errors';
export * from './rateGovernor';
export * from './tokenProvider';
export * from './client';
export * from './entities';
export * from './provisioning';
export {
  entityAddress,
  idFromEntityUrl,
  isGuid,
  odataString,
  type AlternateKey,
  type QueryOptions,
} from './odataAddress';
export { CaPinnedNetworkClient } from './networkClient';
