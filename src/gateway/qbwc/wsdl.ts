/**
 * The QBWC callback contract as WSDL 1.1: SOAP 1.1, document/literal wrapped, namespace http://developer.intuit.com/,
 * service QBWebConnectorSvc. The Web Connector matches element names literally, so they are spelled out here once.
 */

const QBWC_NAMESPACE = 'http://developer.intuit.com/';

type Field = readonly [name: string, type: 'string' | 'int' | 'ArrayOfString'];

/** Method → request children (in order) and result type. */
const qbwcMethods: Record<string, { params: readonly Field[]; result: Field[1] }> = {
  serverVersion: { params: [['strVersion', 'string']], result: 'string' },
  clientVersion: { params: [['strVersion', 'string']], result: 'string' },
  authenticate: {
    params: [
      ['strUserName', 'string'],
      ['strPassword', 'string'],
    ],
    result: 'ArrayOfString',
  },
  sendRequestXML: {
    params: [
      ['ticket', 'string'],
      ['strHCPResponse', 'string'],
      ['strCompanyFileName', 'string'],
      ['qbXMLCountry', 'string'],
      ['qbXMLMajorVers', 'int'],
      ['qbXMLMinorVers', 'int'],
    ],
    result: 'string',
  },
  receiveResponseXML: {
    params: [
      ['ticket', 'string'],
      ['response', 'string'],
      ['hresult', 'string'],
      ['message', 'string'],
    ],
    result: 'int',
  },
  connectionError: {
    params: [
      ['ticket', 'string'],
      ['hresult', 'string'],
      ['message', 'string'],
    ],
    result: 'string',
  },
  getLastError: { params: [['ticket', 'string']], result: 'string' },
  closeConnection: { params: [['ticket', 'string']], result: 'string' },
};

function elementType(type: Field[1]): string {
  if (type === 'int') return 's:int';
  if (type === 'ArrayOfString') return 'tns:ArrayOfString';
  return 's:string';
}

function field([name, type]: Field): string {
  // int results and parameters are required by the contract; strings may be absent.
  const min = type === 'int' ? '1' : '0';
  return `<s:element minOccurs="${min}" maxOccurs="1" name="${name}" type="${elementType(type)}" />`;
}

export function buildQbwcWsdl(location: string): string {
  const names = Object.keys(qbwcMethods);
  const elements = names
    .map((name) => {
      const method = qbwcMethods[name]!;
      return [
        `<s:element name="${name}"><s:complexType><s:sequence>${method.params.map(field).join('')}</s:sequence></s:complexType></s:element>`,
        `<s:element name="${name}Response"><s:complexType><s:sequence>${field([`${name}Result`, method.result])}</s:sequence></s:complexType></s:element>`,
      ].join('');
    })
    .join('');
  const messages = names
    .map(
      (name) =>
        `<wsdl:message name="${name}SoapIn"><wsdl:part name="parameters" element="tns:${name}" /></wsdl:message>` +
        `<wsdl:message name="${name}SoapOut"><wsdl:part name="parameters" element="tns:${name}Response" /></wsdl:message>`,
    )
    .join('');
  const portOps = names
    .map(
      (name) =>
        `<wsdl:operation name="${name}"><wsdl:input message="tns:${name}SoapIn" /><wsdl:output message="tns:${name}SoapOut" /></wsdl:operation>`,
    )
    .join('');
  const bindingOps = names
    .map(
      (name) =>
        `<wsdl:operation name="${name}"><soap:operation soapAction="${QBWC_NAMESPACE}${name}" style="document" />` +
        `<wsdl:input><soap:body use="literal" /></wsdl:input><wsdl:output><soap:body use="literal" /></wsdl:output></wsdl:operation>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:tns="${QBWC_NAMESPACE}" targetNamespace="${QBWC_NAMESPACE}" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/">
<wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="${QBWC_NAMESPACE}">
<s:complexType name="ArrayOfString"><s:sequence><s:element minOccurs="0" maxOccurs="unbounded" name="string" nillable="true" type="s:string" /></s:sequence></s:complexType>
${elements}
</s:schema></wsdl:types>
${messages}
<wsdl:portType name="QBWebConnectorSvcSoap">${portOps}</wsdl:portType>
<wsdl:binding name="QBWebConnectorSvcSoap" type="tns:QBWebConnectorSvcSoap"><soap:binding transport="http://schemas.xmlsoap.org/soap/http" />${bindingOps}</wsdl:binding>
<wsdl:service name="QBWebConnectorSvc"><wsdl:port name="QBWebConnectorSvcSoap" binding="tns:QBWebConnectorSvcSoap"><soap:address location="${location}" /></wsdl:port></wsdl:service>
</wsdl:definitions>
`;
}
