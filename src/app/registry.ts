import type { AnalyzerSpec } from '../core/analyzer';
import { dnsAnalyzer } from './dns/analyzer';
import { httpAnalyzer } from './http/analyzer';
import { quicAnalyzer } from './quic/analyzer';
import { sshAnalyzer } from './ssh/analyzer';
import { tlsAnalyzer } from './tls/analyzer';

/**
 * Every application protocol picket reads, in the order the engine offers them a flow's first bytes (the first
 * whose probe says yes parses them). Adding a protocol: a folder beside this file with its parser and an
 * AnalyzerSpec, and one line here (native-notes/adding-a-protocol.md).
 */
// HTTP comes after TLS and SSH: its probe takes any token method, and an SSH banner with a space in its first 18
// bytes ("SSH-2.0-x y") is a token and a space; the specific probes are asked first.
export const ANALYZERS: readonly AnalyzerSpec[] = [dnsAnalyzer, quicAnalyzer, tlsAnalyzer, sshAnalyzer, httpAnalyzer];
