import { createHmac } from 'node:crypto';
import { aliyunRpcSignature, dingtalkSign, feishuSign, percentEncode, tc3Sign, webhookSignature } from '../../notify/signing';

describe('Alibaba Cloud RPC signature', () => {
  it('matches the documented DescribeRegions example (testid / testsecret)', () => {
    // help.aliyun.com, "签名机制" example: the signature is CT9X0VtwR86fNWSnsc6v8YGOjuE=.
    const params = {
      TimeStamp: '2016-02-23T12:46:24Z',
      Format: 'XML',
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      Version: '2014-05-26',
      SignatureVersion: '1.0',
    };
    expect(aliyunRpcSignature('GET', params, 'testsecret')).toBe('CT9X0VtwR86fNWSnsc6v8YGOjuE=');
  });

  it('percent-encodes as RFC 3986 asks: space %20, * %2A, ~ kept, UTF-8 bytes', () => {
    expect(percentEncode('a b*c~d/阿')).toBe('a%20b%2Ac~d%2F%E9%98%BF');
  });
});

describe('Tencent Cloud TC3-HMAC-SHA256', () => {
  it('matches the documented CVM DescribeInstances example', () => {
    // cloud.tencent.com API 3.0 "签名方法 v3": timestamp 1551113065, key Gu5t9xGARNpq86cd98joQYCN3EXAMPLE.
    const result = tc3Sign({
      secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
      secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
      service: 'cvm',
      host: 'cvm.tencentcloudapi.com',
      timestamp: 1551113065,
      payload: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
    });
    expect(result.canonicalRequest.split('\n').at(-1)).toBe('35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064');
    expect(result.stringToSign).toBe('TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031');
    expect(result.signature).toBe('72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168');
    expect(result.authorization).toBe(
      'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
    );
  });
});

describe('robot signatures', () => {
  // Neither DingTalk nor Feishu publishes a numeric example; these follow their documented
  // algorithms written out independently (their Python samples, transcribed).
  it('DingTalk: HMAC-SHA256 keyed by the secret over "timestamp\\nsecret", Base64', () => {
    const secret = 'SEC0123456789abcdef';
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(`1577000000000\n${secret}`, 'utf8')).digest().toString('base64');
    expect(dingtalkSign(1577000000000, secret)).toBe(expected);
  });

  it('Feishu: HMAC-SHA256 keyed by "timestamp\\nsecret" over nothing, Base64', () => {
    const secret = 'feishu-secret';
    const expected = createHmac('sha256', Buffer.from(`1599360473\n${secret}`, 'utf8')).digest().toString('base64');
    expect(feishuSign(1599360473, secret)).toBe(expected);
    expect(feishuSign(1599360473, secret)).not.toBe(dingtalkSign(1599360473, secret));
  });

  it('generic webhook: sha256= hex HMAC over "timestamp.body"', () => {
    expect(webhookSignature(1700000000, '{"a":1}', 'k'.repeat(16))).toBe(`sha256=${createHmac('sha256', 'k'.repeat(16)).update('1700000000.{"a":1}').digest('hex')}`);
  });
});
