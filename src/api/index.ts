// The fusionpipe REST API for the panel: its types (generated from the server's OpenAPI
// document, see types.ts) and its typed client.
export * from './types';
export { ApiError } from './http';
export { FusionpipeApi } from './client';
