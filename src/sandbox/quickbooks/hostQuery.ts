/** qbXML versions the simulated QuickBooks (Enterprise 23) answers HostQuery with; as QBWC's strHCPResponse says. */
const SUPPORTED_QBXML_VERSIONS = [
  '1.0',
  '2.0',
  '3.0',
  '4.0',
  '5.0',
  '6.0',
  '7.0',
  '8.0',
  '10.0',
  '11.0',
  '12.0',
  '13.0',
];

/**
 * The `HostRet` a `HostQueryRq` answers (the Web Connector simulator's `strHCPResponse` carries the same facts).
 * HostQuery reads nothing from the company file, so it is the cheapest request there is.
 */
export function hostRet(): string {
  const supported = SUPPORTED_QBXML_VERSIONS.map((v) => `<SupportedQBXMLVersion>${v}</SupportedQBXMLVersion>`).join('');
  return (
    '<HostRet><ProductName>QuickBooks Enterprise Solutions 23.0</ProductName><MajorVersion>33</MajorVersion>' +
    `<MinorVersion>0</MinorVersion><Country>US</Country>${supported}<IsAutomaticLogin>false</IsAutomaticLogin>` +
    '<QBFileMode>SingleUser</QBFileMode></HostRet>'
  );
}
