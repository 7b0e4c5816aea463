import { describe, expect, it } from '@jest/globals';
import { FetchAllowlist, isLoopbackAddress, websiteAddressRefusal } from './address-policy.js';

describe('isLoopbackAddress', () => {
  it('knows loopback in every spelling a socket reports, and nothing else', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(address)).toBe(true);
    for (const address of ['192.0.2.2', '10.0.0.1', '::ffff:10.0.0.1', 'fd00::2', '0.0.0.0', '::', 'localhost', '', undefined]) expect(isLoopbackAddress(address)).toBe(false);
  });
});

describe('websiteAddressRefusal', () => {
  it('refuses by spelling only, and admits what the allowlist lists', () => {
    const none = new FetchAllowlist([]);
    expect(websiteAddressRefusal(new URL('http://127.0.0.1:8080'), none)).toBe('127.0.0.1:8080 is a loopback address 127.0.0.1, which is never fetched.');
    expect(websiteAddressRefusal(new URL('http://printer.lan'), none)).toBe('printer.lan is an internal name, which is never fetched.');
    expect(websiteAddressRefusal(new URL('https://example.com'), none)).toBeNull();
    expect(websiteAddressRefusal(new URL('http://8.8.8.8'), none)).toBeNull();
    const fixtures = new FetchAllowlist(['127.0.0.1:8080', 'staging.internal']);
    expect(websiteAddressRefusal(new URL('http://127.0.0.1:8080'), fixtures)).toBeNull();
    expect(websiteAddressRefusal(new URL('http://127.0.0.1:8081'), fixtures)).not.toBeNull();
    expect(websiteAddressRefusal(new URL('https://staging.internal/app'), fixtures)).toBeNull();
  });
});
