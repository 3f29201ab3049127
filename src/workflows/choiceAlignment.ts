import { getExternalWorkflowHandle } from '@temporalio/workflow';
import type { PollCycleStart, SyncContext } from '../activities/syncContext';
import { alignChoices, sameChoiceMap } from '../mapping/choiceAlignment';
import type { ChoiceMaps } from '../mapping/choices';
import type { CustomerRet, CustomerTypeRet, QbRecord, VendorRet } from '../qbxml/requests';
import { companyFileWorkflowId, rememberChoiceNamesSignal } from './companyFile/messages';
import { syncContext } from './sync/activities';

/**
 * The poll cycle's references step: customer types and terms have their Dynamics options before any customer is
 * mapped. Options QuickBooks uses and Dataverse lacks are added; the spellings found are remembered by the company file.
 * Returns the sync context (reloaded when the spellings changed), the choice maps the records are mapped with, and the
 * spellings the company file knows from now on.
 */
export async function alignReferenceChoices(
  connection: string,
  quickbooks: {
    customerTypes: CustomerTypeRet[];
    lists: ReadonlyMap<string, QbRecord[]>;
    /** Terms the records read so far use, for a cycle that hands records off as it reads (then `lists` is empty). */
    termsInUse?: readonly string[];
  },
  start: PollCycleStart,
  context: SyncContext,
  choicesAdded: string[],
): Promise<{ ctx: SyncContext; choices: ChoiceMaps; known: PollCycleStart['knownChoiceNames'] }> {
  const { customerTypes, lists } = quickbooks;
  let ctx = context;
  const termsInUse = new Set<string>(quickbooks.termsInUse);
  for (const list of ['Customer', 'Vendor']) {
    for (const r of lists.get(list) ?? []) {
      const terms = (r as CustomerRet | VendorRet).termsRef?.fullName;
      if (terms) termsInUse.add(terms);
    }
  }
  const aligned: Partial<Record<'customerTypes' | 'terms', ChoiceMaps['terms']>> = {};
  for (const [kind, names] of [
    ['customerTypes', customerTypes.map((t) => t.fullName ?? t.name)],
    ['terms', [...termsInUse]],
  ] as const) {
    if (names.length === 0) continue;
    const alignment = alignChoices({
      quickbooks: names,
      dataverse: start.options[kind],
      configured: ctx.settings.choices[kind],
    });
    aligned[kind] = alignment.map;
    if (alignment.createInDataverse.length > 0) {
      const { added, options } = await syncContext.addChoiceOptions({ kind, labels: alignment.createInDataverse });
      choicesAdded.push(...added);
      const again = alignChoices({
        quickbooks: names,
        dataverse: options,
        configured: ctx.settings.choices[kind],
      });
      aligned[kind] = again.map;
    }
  }
  // Only news is worth a signal and a reload: an idle cycle finds the spellings it already knows.
  const news = Object.entries(aligned).some(([kind, map]) => !sameChoiceMap(map, start.knownChoiceNames[kind] ?? {}));
  if (news) {
    await getExternalWorkflowHandle(companyFileWorkflowId(connection)).signal(rememberChoiceNamesSignal, aligned);
    ctx = await syncContext.loadSyncContext({ connection });
  }
  const choices: ChoiceMaps = {
    ...ctx.choices,
    customerTypes: { ...ctx.choices.customerTypes, ...aligned.customerTypes },
    terms: { ...ctx.choices.terms, ...aligned.terms },
  };
  return { ctx, choices, known: news ? { ...start.knownChoiceNames, ...aligned } : start.knownChoiceNames };
}
