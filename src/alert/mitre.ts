/** ATT&CK names for the techniques picket's rules use; ids not listed here still pass through, without names. */
const TECHNIQUES: Record<string, string> = {
  T1590: 'Gather Victim Network Information',
  'T1590.005': 'IP Addresses',
  'T1590.002': 'DNS',
  T1595: 'Active Scanning',
  'T1595.001': 'Scanning IP Blocks',
  'T1595.002': 'Vulnerability Scanning',
  T1046: 'Network Service Discovery',
};

const TACTIC_RECONNAISSANCE = { id: 'TA0043', name: 'Reconnaissance', reference: 'https://attack.mitre.org/tactics/TA0043/' };

function reference(id: string): string {
  return `https://attack.mitre.org/techniques/${id.replace('.', '/')}/`;
}

/** ECS threat.* for a technique id such as T1590.005. */
export function threatFields(technique: string): Record<string, unknown> {
  const [parent, sub] = technique.split('.');
  const tech: Record<string, unknown> = { id: parent, name: TECHNIQUES[parent] ?? parent, reference: reference(parent) };
  if (sub !== undefined) tech.subtechnique = { id: technique, name: TECHNIQUES[technique] ?? technique, reference: reference(technique) };
  const tactic = parent === 'T1046' ? { id: 'TA0007', name: 'Discovery', reference: 'https://attack.mitre.org/tactics/TA0007/' } : TACTIC_RECONNAISSANCE;
  return { framework: 'MITRE ATT&CK', tactic, technique: tech };
}
