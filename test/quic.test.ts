import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import * as path from 'node:path';
import { test } from 'node:test';
import { assembleCrypto, decryptClientInitials, looksLikeQuicInitial, type CryptoChunk, type QuicInitial } from '../src/app/quic/quic';
import { readCaptureFile } from '../src/capture/file';
import { ipv4ToString, ipv6ToString } from '../src/decode/addr';
import { decodePacket } from '../src/decode/decode';
import { createDecodedPacket, IPPROTO_UDP } from '../src/core/packet';
import * as fs from 'node:fs';
import { get, PCAPS, picket, prng, tmpDir, tshark } from './helpers';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// ---------------------------------------------------------------- RFC vectors

const RFC_DCID = hex('8394c8f03e515708');

/**
 * RFC 9001 appendix A.2 (and RFC 9369 appendix A.2, the same payload): the client Initial's payload is one CRYPTO
 * frame (offset 0, length 0xf1 = 241) holding a ClientHello for example.com, then 917 bytes of PADDING.
 */
const RFC_CRYPTO_FRAME = hex(`
  060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868
  04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578
  616d706c652e636f6dff01000100000a00080006001d00170018001000070005
  04616c706e000500050100000000003300260024001d00209370b2c9caa47fba
  baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400
  0d0010000e0403050306030203080408050806002d00020101001c0002400100
  3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000
  75300901100f088394c8f03e51570806048000ffff`);
const RFC_CLIENT_HELLO = RFC_CRYPTO_FRAME.subarray(4);
const RFC_PAYLOAD = Buffer.concat([RFC_CRYPTO_FRAME, Buffer.alloc(917)]);

/** RFC 9001 appendix A.2: the protected 1200-byte client Initial (packet number 2, 4-byte encoding). */
const RFC9001_CLIENT_INITIAL = hex(`
  c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11
  d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399
  1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c
  8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212
  30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5
  457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208
  4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec
  4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3
  485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db
  059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c
  7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8
  9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556
  be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74
  68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a
  c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00
  f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632
  291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964
  25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd
  14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff
  ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198
  e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd
  c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73
  203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f
  cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e
  fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade
  a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047
  90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2
  162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4
  40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0
  6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e
  8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0
  be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400
  54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab
  760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9
  f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4
  056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064
  7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241
  e221af44860018ab0856972e194cd934`);

/** RFC 9369 appendix A.2: the same Initial under QUIC v2. */
const RFC9369_CLIENT_INITIAL = hex(`
  d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485
  dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04
  9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d
  250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a
  12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500
  cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68
  18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33
  12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3
  d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd
  6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520
  bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045
  636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f
  ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12
  16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5
  4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4
  fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b
  8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7
  14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9
  9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91
  abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd
  80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db
  848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18
  d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15
  c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc
  7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61
  f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710
  10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b
  3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e
  06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce
  8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1
  34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1
  e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd
  5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3
  8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89
  d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53
  6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19
  9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b
  a18b2faa745b6fe189cf772a9f84cbfc`);

/** RFC 9001 / RFC 9369 appendix A.3: the server's Initial (an Initial, but not a client's). */
const RFC9001_SERVER_INITIAL = hex(`
  cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a
  5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3
  dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84
  022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4
  2158407dd074ee`);
const RFC9369_SERVER_INITIAL = hex(`
  dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698
  baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17
  f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2
  c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8
  4bed8521e2e140`);

// ---------------------------------------------------------------- an independent protector (to build packets)

interface Ver { version: number; salt: string; prefix: string; initialType: number; zeroRttType: number }
const V1: Ver = { version: 0x00000001, salt: '38762cf7f55934b34d179ae6a4c80cadccbb7f0a', prefix: 'quic', initialType: 0, zeroRttType: 1 };
const V2: Ver = { version: 0x6b3343cf, salt: '0dede3def700a6db819381be6e269dcbf9bd2ed9', prefix: 'quicv2', initialType: 1, zeroRttType: 2 };

function expandLabel(secret: Buffer, label: string, len: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([Buffer.from([len >> 8, len & 255, full.length]), full, Buffer.from([0, 1])]);
  return createHmac('sha256', secret).update(info).digest().subarray(0, len); // len <= 32: one block
}

function clientKeys(v: Ver, dcid: Buffer): { secret: Buffer; key: Buffer; iv: Buffer; hp: Buffer } {
  const secret = expandLabel(createHmac('sha256', hex(v.salt)).update(dcid).digest(), 'client in', 32);
  return { secret, key: expandLabel(secret, `${v.prefix} key`, 16), iv: expandLabel(secret, `${v.prefix} iv`, 12), hp: expandLabel(secret, `${v.prefix} hp`, 16) };
}

function varint(n: number, len?: number): Buffer {
  const l = len ?? (n < 64 ? 1 : n < 16384 ? 2 : 4);
  const b = Buffer.alloc(l);
  let x = n;
  for (let i = l - 1; i >= 0; i--) {
    b[i] = x & 255;
    x = Math.floor(x / 256);
  }
  b[0] |= { 1: 0, 2: 0x40, 4: 0x80, 8: 0xc0 }[l] ?? 0;
  return b;
}

interface Build { v: Ver; dcid: Buffer; scid?: Buffer; token?: Buffer; pn: number; pnLen: number; payload: Buffer; type?: number; keysFrom?: Buffer; greased?: boolean }

/** Protects a long-header packet as RFC 9001 section 5 says, with node:crypto, independently of src/app/quic.ts. */
function protect(o: Build): Buffer {
  const k = clientKeys(o.v, o.keysFrom ?? o.dcid);
  const scid = o.scid ?? Buffer.alloc(0);
  const type = o.type ?? o.v.initialType;
  const isInitial = type === o.v.initialType;
  const pnBytes = Buffer.alloc(o.pnLen);
  for (let i = 0; i < o.pnLen; i++) pnBytes[o.pnLen - 1 - i] = (o.pn >>> (8 * i)) & 255;
  const ver = Buffer.alloc(4);
  ver.writeUInt32BE(o.v.version);
  const header = Buffer.concat([
    Buffer.from([(o.greased === true ? 0x80 : 0xc0) | (type << 4) | (o.pnLen - 1)]), ver, Buffer.from([o.dcid.length]), o.dcid,
    Buffer.from([scid.length]), scid, isInitial ? Buffer.concat([varint((o.token ?? Buffer.alloc(0)).length), o.token ?? Buffer.alloc(0)]) : Buffer.alloc(0),
    varint(o.pnLen + o.payload.length + 16, 2), pnBytes,
  ]);
  const nonce = Buffer.from(k.iv);
  for (let i = 0; i < 4; i++) nonce[11 - i] ^= (o.pn >>> (8 * i)) & 255;
  const c = createCipheriv('aes-128-gcm', k.key, nonce);
  c.setAAD(header);
  const body = Buffer.concat([c.update(o.payload), c.final(), c.getAuthTag()]);
  const pnOff = header.length - o.pnLen;
  const sample = body.subarray(4 - o.pnLen, 4 - o.pnLen + 16);
  const ecb = createCipheriv('aes-128-ecb', k.hp, null);
  const mask = ecb.update(sample);
  const out = Buffer.concat([header, body]);
  out[0] ^= mask[0] & 0x0f;
  for (let i = 0; i < o.pnLen; i++) out[pnOff + i] ^= mask[1 + i];
  return out;
}

function cryptoFrame(offset: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x06]), varint(offset), varint(data.length), data]);
}

/** The server_name of a ClientHello handshake message (type 1), minimally parsed; null when absent or malformed. */
function sniOf(ch: Buffer): string | null {
  if (ch.length < 4 || ch[0] !== 1) return null;
  const end = Math.min(ch.length, 4 + ch.readUIntBE(1, 3));
  let p = 4 + 2 + 32; // version, random
  if (p >= end) return null;
  p += 1 + ch[p]; // session id
  if (p + 2 > end) return null;
  p += 2 + ch.readUInt16BE(p); // cipher suites
  if (p >= end) return null;
  p += 1 + ch[p]; // compression methods
  if (p + 2 > end) return null;
  const extEnd = Math.min(end, p + 2 + ch.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = ch.readUInt16BE(p);
    const len = ch.readUInt16BE(p + 2);
    p += 4;
    if (type === 0 && len >= 5 && p + len <= extEnd && ch[p + 2] === 0) {
      const n = ch.readUInt16BE(p + 3);
      return p + 5 + n <= extEnd ? ch.toString('latin1', p + 5, p + 5 + n) : null;
    }
    p += len;
  }
  return null;
}

function readVarint(b: Buffer, p: number): { value: number; next: number } {
  const len = 1 << (b[p] >> 6);
  let value = b[p] & 0x3f;
  for (let i = 1; i < len; i++) value = value * 256 + b[p + i];
  return { value, next: p + len };
}

/** What a decryption result says, as plain data for deepEqual. */
function plain(r: QuicInitial[]): unknown {
  return r.map((x) => ({ version: x.version, dcid: x.dcid.toString('hex'), scid: x.scid.toString('hex'), pn: x.packetNumber, crypto: x.crypto.map((c) => [c.offset, c.data.toString('hex')]) }));
}

// ---------------------------------------------------------------- vectors

test('the test protector reproduces RFC 9001 A.1 keys and the A.2 packet, and RFC 9369 A.1/A.2', () => {
  const k1 = clientKeys(V1, RFC_DCID);
  assert.equal(k1.secret.toString('hex'), 'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea');
  assert.equal(k1.key.toString('hex'), '1f369613dd76d5467730efcbe3b1a22d');
  assert.equal(k1.iv.toString('hex'), 'fa044b2f42a3fd3b46fb255c');
  assert.equal(k1.hp.toString('hex'), '9f50449e04a0e810283a1e9933adedd2');
  const k2 = clientKeys(V2, RFC_DCID);
  assert.equal(k2.secret.toString('hex'), '14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b');
  assert.equal(k2.key.toString('hex'), '8b1a0bc121284290a29e0971b5cd045d');
  assert.equal(k2.iv.toString('hex'), '91f73e2351d8fa91660e909f');
  assert.equal(k2.hp.toString('hex'), '45b95e15235d6f45a6b19cbcb0294ba9');
  assert.deepEqual(protect({ v: V1, dcid: RFC_DCID, pn: 2, pnLen: 4, payload: RFC_PAYLOAD }), RFC9001_CLIENT_INITIAL);
  assert.deepEqual(protect({ v: V2, dcid: RFC_DCID, pn: 2, pnLen: 4, payload: RFC_PAYLOAD }), RFC9369_CLIENT_INITIAL);
});

for (const [name, pkt, version] of [['RFC 9001 A.2 (v1)', RFC9001_CLIENT_INITIAL, 1], ['RFC 9369 A.2 (v2)', RFC9369_CLIENT_INITIAL, 0x6b3343cf]] as const) {
  test(`${name}: the client Initial decrypts to its CRYPTO frame, a ClientHello for example.com`, () => {
    assert.equal(pkt.length, 1200);
    const copy = Buffer.from(pkt);
    assert.equal(looksLikeQuicInitial(pkt, 0, pkt.length), true);
    const r = decryptClientInitials(pkt, 0, pkt.length);
    assert.deepEqual(pkt, copy, 'the input is not written to');
    assert.equal(r.length, 1);
    assert.equal(r[0].version, version);
    assert.deepEqual(r[0].dcid, RFC_DCID);
    assert.equal(r[0].scid.length, 0);
    assert.equal(r[0].packetNumber, 2);
    assert.equal(r[0].crypto.length, 1);
    assert.equal(r[0].crypto[0].offset, 0);
    assert.deepEqual(r[0].crypto[0].data, RFC_CLIENT_HELLO);
    const ch = assembleCrypto(r[0].crypto);
    assert.ok(ch !== null);
    assert.equal(ch.length, 241);
    assert.equal(ch[0], 0x01, 'handshake type ClientHello');
    assert.equal(sniOf(ch), 'example.com');
    // inside a larger buffer, at an offset
    const big = Buffer.concat([Buffer.alloc(37, 0xee), pkt, Buffer.alloc(11, 0xee)]);
    assert.deepEqual(plain(decryptClientInitials(big, 37, 37 + pkt.length)), plain(r));
    assert.deepEqual(plain(decryptClientInitials(new Uint8Array(big).subarray(37), 0, pkt.length)), plain(r));
  });
}

test('RFC 9001/9369 A.3 server Initials look like Initials but do not decrypt as a client\'s', () => {
  for (const p of [RFC9001_SERVER_INITIAL, RFC9369_SERVER_INITIAL]) {
    assert.equal(looksLikeQuicInitial(p, 0, p.length), true);
    assert.deepEqual(decryptClientInitials(p, 0, p.length), []);
  }
});

test('looksLikeQuicInitial: v1/v2 type bits, unknown versions, short headers, impossible lengths', () => {
  const ok = RFC9001_CLIENT_INITIAL;
  const mod = (i: number, v: number, src: Buffer = ok): Buffer => {
    const b = Buffer.from(src);
    b[i] = v;
    return b;
  };
  assert.equal(looksLikeQuicInitial(mod(0, 0xd0), 0, 1200), false, 'v1 0-RTT');
  assert.equal(looksLikeQuicInitial(mod(0, 0xe0), 0, 1200), false, 'v1 Handshake');
  assert.equal(looksLikeQuicInitial(mod(0, 0x40), 0, 1200), false, 'short header');
  assert.equal(looksLikeQuicInitial(mod(0, 0x80), 0, 1200), false, 'fixed bit clear, no token');
  assert.equal(looksLikeQuicInitial(mod(0, 0xc0, RFC9369_CLIENT_INITIAL), 0, 1200), false, 'v2 type 0 is Retry');
  assert.equal(looksLikeQuicInitial(mod(4, 0x02), 0, 1200), false, 'version 2 is not QUIC v2');
  assert.equal(looksLikeQuicInitial(mod(4, 0x00), 0, 1200), false, 'version negotiation');
  assert.equal(looksLikeQuicInitial(mod(5, 21), 0, 1200), false, 'DCID longer than 20');
  assert.equal(looksLikeQuicInitial(ok, 0, 1199), false, 'Length past the end');
  assert.equal(looksLikeQuicInitial(ok, 0, 20), false);
  assert.equal(looksLikeQuicInitial(ok, 5, 1200), false);
  assert.equal(looksLikeQuicInitial(ok, 0, 5000), false, 'end past the buffer');
  assert.equal(looksLikeQuicInitial(ok, -1, 1200), false);
  assert.equal(looksLikeQuicInitial(Buffer.alloc(0), 0, 0), false);
  // a Length too small for a header-protection sample
  const tiny = protect({ v: V1, dcid: RFC_DCID, pn: 0, pnLen: 1, payload: Buffer.from([1, 0, 0]) });
  assert.equal(looksLikeQuicInitial(tiny, 0, tiny.length), true);
  const tooSmall = protect({ v: V1, dcid: RFC_DCID, pn: 0, pnLen: 1, payload: Buffer.from([1, 0]) });
  assert.equal(looksLikeQuicInitial(tooSmall, 0, tooSmall.length), false);
  assert.deepEqual(decryptClientInitials(tooSmall, 0, tooSmall.length), []);
});

// ---------------------------------------------------------------- built packets: frames, coalescing, packet numbers

const CH = Buffer.concat([Buffer.from([1, 0, 0x01, 0x2c]), Buffer.alloc(300, 0x5a)]); // a stand-in handshake message

test('frames: PADDING, PING, ACK with ranges, ACK_ECN, CRYPTO, CONNECTION_CLOSE; unknown type stops', () => {
  const ack = Buffer.concat([Buffer.from([0x02]), varint(1000), varint(25), varint(2), varint(3), varint(1), varint(2), varint(300), varint(0)]);
  const ackEcn = Buffer.concat([Buffer.from([0x03]), varint(5), varint(0), varint(0), varint(5), varint(70000), varint(1), varint(2)]);
  const close = Buffer.concat([Buffer.from([0x1c]), varint(0x0a), varint(0x06), varint(5), Buffer.from('nope!')]);
  const payload = Buffer.concat([
    Buffer.from([0x00, 0x01, 0x00]), ack, cryptoFrame(100, CH.subarray(100)), ackEcn, Buffer.from([0x01]),
    cryptoFrame(0, CH.subarray(0, 100)), close, cryptoFrame(304, Buffer.from('tail')), Buffer.from([0x07, 0x06, 0x00, 0x01, 0x41]),
    cryptoFrame(9999, Buffer.from('after the unknown frame')),
  ]);
  for (const v of [V1, V2]) {
    for (const pnLen of [1, 2, 3, 4]) {
      const pn = [0x17, 0x1234, 0x123456, 0xfedcba98][pnLen - 1];
      const dcid = Buffer.from(`0011223344556677${pnLen}`.padEnd(18, '0'), 'hex');
      const scid = Buffer.from('abcdef', 'hex');
      const p = protect({ v, dcid, scid, token: Buffer.from('a retry token'), pn, pnLen, payload });
      assert.equal(looksLikeQuicInitial(p, 0, p.length), true);
      const r = decryptClientInitials(p, 0, p.length);
      assert.equal(r.length, 1, `v${v.version.toString(16)} pnLen ${pnLen}`);
      assert.equal(r[0].version, v.version);
      assert.equal(r[0].packetNumber, pn);
      assert.deepEqual(r[0].dcid, dcid);
      assert.deepEqual(r[0].scid, scid);
      assert.deepEqual(r[0].crypto.map((c) => c.offset), [100, 0, 304]);
      assert.deepEqual(assembleCrypto(r[0].crypto), Buffer.concat([CH, Buffer.from('tail')]));
    }
  }
});

test('RFC 9287: a client Initial with the fixed bit greased to 0 is read when it carries a token', () => {
  for (const v of [V1, V2]) {
    const withToken = protect({ v, dcid: RFC_DCID, token: Buffer.from('new-token'), pn: 3, pnLen: 1, payload: cryptoFrame(0, CH), greased: true });
    assert.equal(withToken[0] & 0x40, 0);
    assert.equal(looksLikeQuicInitial(withToken, 0, withToken.length), true);
    assert.deepEqual(decryptClientInitials(withToken, 0, withToken.length).map((x) => assembleCrypto(x.crypto)), [CH]);
    const noToken = protect({ v, dcid: RFC_DCID, pn: 3, pnLen: 1, payload: cryptoFrame(0, CH), greased: true });
    assert.equal(looksLikeQuicInitial(noToken, 0, noToken.length), false, 'only a token-bearing Initial may grease it');
    assert.deepEqual(decryptClientInitials(noToken, 0, noToken.length), []);
  }
});

test('a frame cut short keeps the CRYPTO frames before it', () => {
  for (const bad of [Buffer.from([0x02, 0x05]), Buffer.from([0x03, 0x01, 0x00, 0x3f]), Buffer.from([0x06, 0x00, 0x44]), Buffer.from([0x1c, 0x00, 0x00, 0x10, 0x41])]) {
    const payload = Buffer.concat([cryptoFrame(0, CH.subarray(0, 50)), bad]);
    const p = protect({ v: V1, dcid: RFC_DCID, pn: 1, pnLen: 2, payload: Buffer.concat([payload, Buffer.alloc(0)]) });
    const r = decryptClientInitials(p, 0, p.length);
    assert.equal(r.length, 1);
    assert.deepEqual(r[0].crypto.map((c) => c.data), [CH.subarray(0, 50)]);
  }
});

test('coalesced packets: every Initial, stopping at a 0-RTT packet, at padding, at one that does not verify', () => {
  for (const v of [V1, V2]) {
    const dcid = hex('0102030405060708');
    const a = protect({ v, dcid, scid: hex('aa'), pn: 0, pnLen: 1, payload: cryptoFrame(0, CH.subarray(0, 200)) });
    const b = protect({ v, dcid, scid: hex('aa'), pn: 1, pnLen: 4, payload: Buffer.concat([cryptoFrame(200, CH.subarray(200)), Buffer.alloc(30)]) });
    const zeroRtt = protect({ v, dcid, scid: hex('aa'), pn: 0, pnLen: 2, payload: Buffer.alloc(40, 1), type: v.zeroRttType });
    const wrongKeys = protect({ v, dcid, scid: hex('aa'), pn: 2, pnLen: 1, payload: cryptoFrame(0, CH), keysFrom: hex('ffffffffffffffff') });
    const dgram = Buffer.concat([a, b, zeroRtt, Buffer.alloc(200)]);
    const r = decryptClientInitials(dgram, 0, dgram.length);
    assert.deepEqual(r.map((x) => x.packetNumber), [0, 1]);
    assert.deepEqual(assembleCrypto([...r[0].crypto, ...r[1].crypto]), CH);
    assert.deepEqual(decryptClientInitials(Buffer.concat([a, wrongKeys, b]), 0, a.length * 3).map((x) => x.packetNumber), [0]);
    assert.deepEqual(decryptClientInitials(Buffer.concat([a, Buffer.alloc(100), b]), 0, a.length + 100 + b.length).map((x) => x.packetNumber), [0]);
    assert.deepEqual(decryptClientInitials(Buffer.concat([zeroRtt, a]), 0, zeroRtt.length + a.length), []);
    assert.deepEqual(decryptClientInitials(Buffer.concat([wrongKeys, a]), 0, wrongKeys.length + a.length), []);
    assert.equal(looksLikeQuicInitial(zeroRtt, 0, zeroRtt.length), false);
  }
  // a packet for another connection (another DCID) coalesced behind: ignored, as RFC 9000 section 12.2 says
  const mine = protect({ v: V1, dcid: RFC_DCID, pn: 0, pnLen: 1, payload: cryptoFrame(0, CH) });
  const other = protect({ v: V1, dcid: hex('0102030405060708'), pn: 1, pnLen: 1, payload: cryptoFrame(0, CH) });
  assert.deepEqual(decryptClientInitials(Buffer.concat([mine, other]), 0, mine.length + other.length).map((x) => x.dcid), [RFC_DCID]);
  // v1 then v2 in one datagram: each by its own version's rules
  const one = protect({ v: V1, dcid: RFC_DCID, pn: 5, pnLen: 1, payload: cryptoFrame(0, CH.subarray(0, 10)) });
  const two = protect({ v: V2, dcid: RFC_DCID, pn: 6, pnLen: 1, payload: cryptoFrame(10, CH.subarray(10, 20)) });
  assert.deepEqual(decryptClientInitials(Buffer.concat([one, two]), 0, one.length + two.length).map((x) => [x.version, x.packetNumber]), [[1, 5], [0x6b3343cf, 6]]);
});

// ---------------------------------------------------------------- assembleCrypto

const chunk = (offset: number, s: string): CryptoChunk => ({ offset, data: Buffer.from(s) });

test('assembleCrypto: order, overlaps, gaps, offset 0 missing, first copy wins, maxBytes', () => {
  assert.equal(assembleCrypto([]), null);
  assert.equal(assembleCrypto([chunk(3, 'def')]), null, 'nothing at offset 0 yet');
  assert.equal(assembleCrypto([chunk(0, '')]), null, 'an empty chunk is no data');
  assert.equal(assembleCrypto([chunk(6, 'ghi'), chunk(3, 'def'), chunk(0, 'abc')])?.toString(), 'abcdefghi');
  assert.equal(assembleCrypto([chunk(2, 'cdefg'), chunk(0, 'abcd'), chunk(4, 'ef')])?.toString(), 'abcdefg');
  assert.equal(assembleCrypto([chunk(0, 'abc'), chunk(10, 'xyz')])?.toString(), 'abc', 'stops at the gap');
  assert.equal(assembleCrypto([chunk(0, 'abc'), chunk(10, 'xyz'), chunk(3, 'defghij')])?.toString(), 'abcdefghijxyz', 'the gap filled');
  assert.equal(assembleCrypto([chunk(0, 'abcdef'), chunk(2, 'XY')])?.toString(), 'abcdef', 'the first copy wins');
  assert.equal(assembleCrypto([chunk(2, 'XY'), chunk(0, 'abcdef')])?.toString(), 'abXYef', 'the first copy wins');
  assert.equal(assembleCrypto([chunk(0, 'abcdef'), chunk(6, 'ghij')], 8)?.toString(), 'abcdefgh');
  assert.equal(assembleCrypto([chunk(0, 'abc'), chunk(8, 'zzz')], 8)?.toString(), 'abc');
  assert.equal(assembleCrypto([chunk(0, 'abc')], 0), null);
  assert.equal(assembleCrypto([chunk(-1, 'abc'), chunk(Number.NaN, 'q'), chunk(0, 'a')])?.toString(), 'a');
  const big = Buffer.alloc(70000, 7);
  assert.equal(assembleCrypto([{ offset: 0, data: big }])?.length, 65536, 'default bound');
  assert.equal(assembleCrypto([{ offset: 0, data: big }, { offset: 2 ** 62, data: big }])?.length, 65536);
  const chunks = [chunk(0, 'abc')];
  assembleCrypto([chunk(5, 'x'), ...chunks]);
  assert.deepEqual(chunks, [chunk(0, 'abc')], 'the input is not changed');
});

test('assembleCrypto equals a byte-by-byte model on random chunk sets (seeded)', () => {
  const rnd = prng(0x9001);
  const truth = Buffer.alloc(400);
  for (let i = 0; i < truth.length; i++) truth[i] = (rnd() * 256) | 0;
  for (let iter = 0; iter < 2000; iter++) {
    const chunks: CryptoChunk[] = [];
    const n = (rnd() * 6) | 0;
    for (let i = 0; i < n; i++) {
      const off = (rnd() * 380) | 0;
      const len = (rnd() * 120) | 0;
      const data = Buffer.from(truth.subarray(off, off + len));
      if (rnd() < 0.2) data.fill(0xee); // a conflicting copy: the first one seen must win
      chunks.push({ offset: off, data });
    }
    const max = rnd() < 0.3 ? 1 + ((rnd() * 300) | 0) : 65536;
    const model: Array<number | undefined> = [];
    for (const c of chunks) for (let i = 0; i < c.data.length; i++) if (c.offset + i < max && model[c.offset + i] === undefined) model[c.offset + i] = c.data[i];
    let have = 0;
    while (model[have] !== undefined) have++;
    const want = have === 0 ? null : Buffer.from(model.slice(0, have) as number[]);
    assert.deepEqual(assembleCrypto(chunks, max), want, `iteration ${iter}`);
  }
});

// ---------------------------------------------------------------- real captures

interface Dgram { frame: number; src: string; sport: number; dport: number; payload: Buffer }

async function udpDatagrams(file: string): Promise<Dgram[]> {
  const pkt = createDecodedPacket();
  const out: Dgram[] = [];
  let frame = 0;
  await readCaptureFile(file, (b) => {
    for (let i = 0; i < b.count; i++) {
      frame++;
      decodePacket(b.data, b.offset[i], b.caplen[i], b.origlen[i], b.linktype[i], pkt);
      if (pkt.proto !== IPPROTO_UDP || pkt.fragment === 2) continue;
      const src = pkt.ipVersion === 4 ? ipv4ToString(pkt.src4) : ipv6ToString(b.data, pkt.srcAddrOff);
      // copied: the batch window is reused
      out.push({ frame, src, sport: pkt.srcPort, dport: pkt.dstPort, payload: Buffer.from(b.data.subarray(pkt.payloadOff, pkt.payloadOff + pkt.payloadLen)) });
    }
  }, { firstOrdinal: 0 });
  return out;
}

const V1_PCAP = path.join(PCAPS, 'quic', 'quic-v1.pcap');

test('quic-v1.pcap: every client Initial decrypts; the assembled ClientHello\'s SNI equals tshark\'s', async () => {
  const dgrams = await udpDatagrams(V1_PCAP);
  // tshark's view: the first QUIC packet type of each datagram, its DCID, first CRYPTO frame, and the SNI where the
  // ClientHello completes
  const theirs = new Map<number, string[]>();
  for (const row of tshark(V1_PCAP, 'quic', ['frame.number', 'quic.long.packet_type', 'quic.dcid', 'quic.crypto.offset', 'quic.crypto.length', 'tls.handshake.extensions_server_name', 'quic.fixed_bit', 'quic.token_length'])) {
    theirs.set(Number(row[0]), row);
  }
  assert.ok(theirs.size > 20, 'tshark sees the QUIC traffic');
  const zeroRtt = new Set(tshark(V1_PCAP, 'quic.long.packet_type == 1', ['frame.number']).map((r) => Number(r[0])));

  interface Conn { original: string; chunks: CryptoChunk[]; decrypted: number; frames: number[]; tsharkSni: string }
  const conns = new Map<string, Conn>();
  let clientInitials = 0;
  let later = 0;
  let coalesced = 0;
  for (const d of dgrams) {
    const t = theirs.get(d.frame);
    assert.ok(t !== undefined, `frame ${d.frame}: tshark sees QUIC`);
    const isInitial = t[1] === '0';
    // gtlsserver greases the fixed bit (RFC 9287) in some of its Initials, which carry no token
    const plausible = isInitial && (t[6] === '1' || (t[7] !== '' && t[7] !== '0'));
    assert.equal(looksLikeQuicInitial(d.payload, 0, d.payload.length), plausible, `frame ${d.frame}: looksLikeQuicInitial`);
    const r = decryptClientInitials(d.payload, 0, d.payload.length);
    const fromClient = d.dport === 443;
    if (!fromClient || !isInitial) {
      assert.deepEqual(r, [], `frame ${d.frame}: not a client Initial`);
      continue;
    }
    const key = `${d.src} ${d.sport}`;
    let c = conns.get(key);
    if (c === undefined) {
      c = { original: t[2], chunks: [], decrypted: 0, frames: [], tsharkSni: '' };
      conns.set(key, c);
    }
    if (t[5] !== '') c.tsharkSni = t[5];
    clientInitials++;
    if (t[2] !== c.original) {
      // sent after the server's reply, to the server's connection ID: keyed to the original DCID, which is flow state
      assert.deepEqual(r, [], `frame ${d.frame}: a later Initial does not verify statelessly`);
      later++;
      continue;
    }
    assert.equal(r.length, 1, `frame ${d.frame}: the client Initial decrypts`);
    assert.equal(r[0].version, 1);
    assert.equal(r[0].dcid.toString('hex'), c.original);
    assert.equal(r[0].crypto.length, 1);
    assert.equal(String(r[0].crypto[0].offset), t[3], `frame ${d.frame}: CRYPTO offset as tshark`);
    assert.equal(String(r[0].crypto[0].data.length), t[4], `frame ${d.frame}: CRYPTO length as tshark`);
    if (zeroRtt.has(d.frame)) coalesced++; // the 0-RTT packet after the Initial was not taken for one
    c.chunks.push(...r[0].crypto);
    c.decrypted++;
    c.frames.push(d.frame);
  }
  assert.equal(conns.size, 3, 'three connections');
  assert.ok(clientInitials >= 4 && coalesced >= 1, `client Initials ${clientInitials}, later ${later}, coalesced with 0-RTT ${coalesced}`);
  const snis: string[] = [];
  const spans: number[] = [];
  for (const [key, c] of conns) {
    const ch = assembleCrypto(c.chunks);
    assert.ok(ch !== null, `${key}: CRYPTO data from offset 0`);
    assert.equal(ch[0], 0x01, `${key}: a ClientHello`);
    assert.equal(ch.length, 4 + ch.readUIntBE(1, 3), `${key}: the whole ClientHello`);
    assert.equal(sniOf(ch), c.tsharkSni, `${key}: SNI as tshark`);
    snis.push(c.tsharkSni);
    spans.push(c.decrypted);
  }
  assert.deepEqual(snis, ['api.shodan.io', 'www.example.org', 'api.shodan.io']);
  assert.deepEqual(spans, [1, 2, 1], 'the IPv6 ClientHello spans two Initial packets');
});

// ---------------------------------------------------------------- fuzz

test('fuzz (seeded): flips and cuts never throw and never yield what was not sent', async () => {
  const rnd = prng(0x51c);
  const real = (await udpDatagrams(V1_PCAP)).map((d) => d.payload).filter((p) => looksLikeQuicInitial(p, 0, p.length));
  const built = Buffer.concat([
    protect({ v: V2, dcid: RFC_DCID, pn: 0, pnLen: 1, payload: cryptoFrame(0, CH.subarray(0, 90)) }),
    protect({ v: V2, dcid: RFC_DCID, pn: 1, pnLen: 2, payload: cryptoFrame(90, CH.subarray(90)) }),
  ]);
  const corpus = [RFC9001_CLIENT_INITIAL, RFC9369_CLIENT_INITIAL, RFC9001_SERVER_INITIAL, built, ...real];
  let decrypted = 0;
  for (const orig of corpus) {
    const base = decryptClientInitials(orig, 0, orig.length);
    const baseEnds: number[] = []; // where each decrypted packet ends, for the prefix rule below
    let p = 0;
    for (const x of base) {
      p += 1 + 4 + 1 + x.dcid.length + 1 + x.scid.length;
      const token = readVarint(orig, p);
      p = token.next + token.value;
      const len = readVarint(orig, p);
      p = len.next + len.value;
      baseEnds.push(p);
    }
    for (let iter = 0; iter < 300; iter++) {
      const b = Buffer.from(orig);
      let end = b.length;
      let firstTouched = b.length;
      const kind = rnd();
      if (kind < 0.6) {
        const flips = 1 + ((rnd() * 3) | 0);
        for (let i = 0; i < flips; i++) {
          const at = (rnd() * b.length) | 0;
          b[at] ^= 1 + ((rnd() * 255) | 0);
          firstTouched = Math.min(firstTouched, at);
        }
      } else if (kind < 0.9) {
        end = (rnd() * b.length) | 0;
        firstTouched = end;
      } else {
        for (let i = 0; i < b.length; i++) b[i] = (rnd() * 256) | 0;
        b[0] = 0xc0 | (b[0] & 0x3f); // a long header, to get past the first check more often
        firstTouched = 0;
      }
      let r: QuicInitial[] = [];
      assert.doesNotThrow(() => {
        looksLikeQuicInitial(b, 0, end);
        r = decryptClientInitials(b, 0, end);
        for (const x of r) assembleCrypto(x.crypto);
      });
      // Only packets wholly before the first damaged byte can come out, and exactly as sent.
      const intact = baseEnds.filter((e) => e <= firstTouched).length;
      assert.ok(r.length <= intact, `corpus item ${corpus.indexOf(orig)}, iteration ${iter}: ${r.length} decrypted, ${intact} intact`);
      assert.deepEqual(plain(r), plain(base.slice(0, r.length)));
      decrypted += r.length;
    }
  }
  assert.ok(decrypted > 0, 'the fuzz also hits undamaged packets');
});

test('fuzz (seeded): random bytes and windows never throw', () => {
  const rnd = prng(7);
  const b = Buffer.alloc(1500);
  for (let iter = 0; iter < 3000; iter++) {
    for (let i = 0; i < b.length; i++) b[i] = (rnd() * 256) | 0;
    if (rnd() < 0.7) {
      b[0] = 0xc0 | (rnd() < 0.5 ? 0x00 : 0x10) | (b[0] & 0x0f);
      b.writeUInt32BE(rnd() < 0.5 ? 1 : 0x6b3343cf, 1);
      b[5] = (rnd() * 22) | 0;
    }
    const off = (rnd() * 40) | 0;
    const end = off + ((rnd() * (b.length - off + 30)) | 0) - 10;
    assert.doesNotThrow(() => {
      looksLikeQuicInitial(b, off, end);
      assert.deepEqual(decryptClientInitials(b, off, end), []);
    });
  }
});

test('the key derivation budget: Initials past app.quic.key_derivations_per_second are counted, not read; the default reads all', () => {
  const file = path.join(PCAPS, 'quic', 'quic-v1.pcap');
  // Client Initials with a DCID not seen before, per second of packet time: the budget's unit.
  const perSecond = new Map<string, Set<string>>();
  for (const [t, dcids] of tshark(file, 'quic.long.packet_type == 0 && udp.dstport == 443', ['frame.time_epoch', 'quic.dcid'])) {
    const sec = t.split('.')[0];
    const set = perSecond.get(sec) ?? new Set<string>();
    set.add(dcids.split(',')[0]);
    perSecond.set(sec, set);
  }
  const over = [...perSecond.values()].reduce((n, s) => n + Math.max(0, s.size - 1), 0);
  assert.ok(over >= 1, 'the capture has a second with two new connection IDs');

  const stats = (args: string[]): Record<string, unknown> => {
    const r = picket(['replay', ...args, file]);
    assert.equal(r.code, 0, r.stderr);
    const docs = r.docs.filter((d) => get(d, 'event.kind') === 'metric');
    assert.equal(docs.length, 1);
    return docs[0];
  };
  const all = stats([]);
  assert.equal(get(all, 'picket.stats.quic.initials_skipped'), 0);
  assert.ok(Number(get(all, 'picket.stats.quic.initials')) >= perSecond.size);

  const dir = tmpDir('quic-budget');
  fs.writeFileSync(path.join(dir, 'budget.yaml'), 'kind: policy\napp:\n  quic:\n    key_derivations_per_second: 1\n');
  const tight = stats(['--rules', dir]);
  // Every datagram of a connection whose keys were refused is skipped too (its keys never reach the cache), and
  // server Initials cost a derivation as well: at least the refused derivations, at most every Initial datagram.
  const skipped = Number(get(tight, 'picket.stats.quic.initials_skipped'));
  const datagrams = tshark(file, 'quic.long.packet_type == 0', ['frame.number']).length;
  assert.ok(skipped >= over && skipped <= datagrams, `skipped ${skipped}, refused derivations ${over}, Initial datagrams ${datagrams}`);
  assert.ok(Number(get(tight, 'picket.stats.quic.initials')) < Number(get(all, 'picket.stats.quic.initials')));

  fs.writeFileSync(path.join(dir, 'budget.yaml'), 'kind: policy\napp:\n  quic:\n    key_derivations: 1\n');
  const bad = picket(['replay', '--rules', dir, file]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /budget\.yaml:4.*key_derivations/);
});
