export * from './errors';
export * from './rateGovernor';
export * from './tokenProvider';
export * from './client';
export * from './entities';
export * from './provisioning';
export { type AlternateKey, type QueryOptions } from './odataAddress';
