import { qbxmlVersionsUpTo } from '../quickbooks/qbxmlVersions';

/**
 * The `strHCPResponse` QBWC sends on the first `sendRequestXML` of a run: QuickBooks' answers to its own
 * HostQuery, CompanyQuery and PreferencesQuery (reference §5). Kept small — enough for a server that reads the
 * product, the supported qbXML versions, the company name and a couple of preferences.
 */
export function hostCompanyPreferencesResponse(companyFilePath: string, qbxmlVersion: string): string {
  const companyName = escapeText(companyNameOf(companyFilePath));
  const supported = qbxmlVersionsUpTo(qbxmlVersion)
    .map((v) => `<SupportedQBXMLVersion>${v}</SupportedQBXMLVersion>`)
    .join('');
  return (
    '<?xml version="1.0" ?>' +
    '<QBXML><QBXMLMsgsRs>' +
    '<HostQueryRs requestID="0" statusCode="0" statusSeverity="Info" statusMessage="Status OK"><HostRet>' +
    '<ProductName>QuickBooks Enterprise Solutions 23.0</ProductName><MajorVersion>33</MajorVersion><MinorVersion>0</MinorVersion>' +
    `<Country>US</Country>${supported}<IsAutomaticLogin>false</IsAutomaticLogin><QBFileMode>SingleUser</QBFileMode>` +
    '</HostRet></HostQueryRs>' +
    '<CompanyQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK"><CompanyRet>' +
    `<IsSampleCompany>false</IsSampleCompany><CompanyName>${companyName}</CompanyName><LegalCompanyName>${companyName}</LegalCompanyName>` +
    '</CompanyRet></CompanyQueryRs>' +
    '<PreferencesQueryRs requestID="2" statusCode="0" statusSeverity="Info" statusMessage="Status OK"><PreferencesRet>' +
    '<AccountingPreferences><IsUsingAccountNumbers>false</IsUsingAccountNumbers><IsRequiringAccounts>true</IsRequiringAccounts>' +
    '<IsUsingClassTracking>true</IsUsingClassTracking><IsUsingAuditTrail>true</IsUsingAuditTrail>' +
    '<IsAssigningJournalEntryNumbers>true</IsAssigningJournalEntryNumbers></AccountingPreferences>' +
    '<MultiCurrencyPreferences><IsMultiCurrencyOn>false</IsMultiCurrencyOn></MultiCurrencyPreferences>' +
    '</PreferencesRet></PreferencesQueryRs>' +
    '</QBXMLMsgsRs></QBXML>'
  );
}

function companyNameOf(companyFilePath: string): string {
  const file = companyFilePath.split(/[\\/]/).pop() ?? '';
  return file.replace(/\.qbw$/i, '') || 'Sandbox Company';
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
