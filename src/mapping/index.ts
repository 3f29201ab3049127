/**
 * Pure mapping between QuickBooks (qbXML records and request fields) and Dataverse rows. No I/O, no clock, no Node
 * built-ins: workflow code imports this module, and every function returns a MappingResult instead of throwing.
 */
export * from './result';
export * from './money';
export * from './choices';
export * from './dataverseRows';
export { changedColumns } from './fields';
export * from './customerAccount';
export * from './vendorAccount';
export * from './itemProduct';
export * from './salesOrderInvoice';
export * from './ownership';
export * from './syncBase';
export * from './choiceAlignment';
