import { queryLists } from './listRequests';
import type { RequestContext, RequestOutcome } from './requestContext';
import type { XmlElement } from './xml';

/** TermsQuery returns every kind of terms; the simulator only has standard terms, so it is StandardTermsQuery. */
export function standardTermsQuery(rq: XmlElement, ctx: RequestContext): RequestOutcome {
  return queryLists(['Terms'], rq, ctx);
}
