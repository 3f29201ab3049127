/** Every workflow the worker runs. */
export { companyFile } from './companyFile/workflow';
export { quickbooksListRead } from './quickbooksListRead';
export { dataverseRecordSync } from './dataverseRecordSync';
export { reconcile } from './reconcile';
export { pollCycle } from './pollCycle';
export { quickbooksRecordSync } from './sync/quickbooksRecordSync';
export { quickbooksRecordBatch } from './sync/quickbooksRecordBatch';
export { quickbooksRecordGroup } from './sync/quickbooksRecordGroup';
