import { afterEach, describe, expect, it } from 'vitest';
import { InputError, EXIT } from '../../../lib/errors.ts';
import { parseInventoryText } from '../../../lib/inventory/index.ts';
import { clearSecrets, redact, REDACTED } from '../../../lib/secrets/redact.ts';
import { inputError } from './helpers.ts';

afterEach(() => clearSecrets());

const yaml = (...lines: string[]) => lines.join('\n') + '\n';

describe('YAML inventory errors name file:line:col and the key', () => {
  const cases: [string, string, string][] = [
    ['typo of a connection var (group vars)', yaml('all:', '  vars:', '    ansbile_user: x'), 'inv.yml:3:5: key "ansbile_user": looks like a misspelt connection variable: did you mean ansible_user?'],
    ['typo of a connection var (host vars)', yaml('all:', '  hosts:', '    h1:', '      ansible_usr: debian'), 'inv.yml:4:7: key "ansible_usr": unknown connection variable: did you mean ansible_user?'],
    ['wrong case', yaml('all:', '  hosts:', '    h1:', '      Ansible_User: debian'), 'inv.yml:4:7: key "Ansible_User": unknown connection variable: did you mean ansible_user?'],
    ['unknown ansible_ var', yaml('all:', '  vars:', '    ansible_frobnicate: 1'), 'inv.yml:3:5: key "ansible_frobnicate": unknown connection variable: names starting with ansible_ or drover_ are reserved for the ones listed in lib/inventory/README.md'],
    ['unknown drover_ var', yaml('all:', '  vars:', '    drover_proxy_jmp: b'), 'inv.yml:3:5: key "drover_proxy_jmp": unknown connection variable: did you mean drover_proxy_jump?'],
    ['bad structural key', yaml('all:', '  children:', '    web:', '      host:', '        w1:'), 'inv.yml:4:7: key "host": unknown key in group "web": a group has only hosts, children and vars'],
    ['a variable directly in a group', yaml('all:', '  ansible_user: root'), 'inv.yml:2:3: key "ansible_user": unknown key in group "all": a group has only hosts, children and vars (variables go under "vars:", or under the host)'],
    ['hosts as a list', yaml('all:', '  hosts:', '    - a'), 'inv.yml:2:3: key "hosts": "hosts" must map each host name to its variables or to nothing (got a list; write "name:" lines, not "- name")'],
    ['host mapped to an address', yaml('all:', '  hosts:', '    h1: 10.0.0.1'), 'inv.yml:3:5: key "h1": host "h1" must map to a mapping of its variables or to nothing (got a string; for its address write "ansible_host: ...")'],
    ['vars as a list', yaml('web:', '  vars: [a]'), 'inv.yml:2:3: key "vars": "vars" must be a mapping of variable names to values (got a list)'],
    ['group as a list', yaml('all:', '  children:', '    web: [a, b]'), 'inv.yml:3:5: key "web": group "web" must be a mapping with hosts, children or vars (got a list)'],
    ['port not a number', yaml('all:', '  vars:', '    ansible_port: abc'), 'inv.yml:3:5: key "ansible_port": must be an integer from 1 to 65535 (got "abc")'],
    ['port out of range', yaml('all:', '  hosts:', '    h1: { ansible_port: 70000 }'), 'inv.yml:3:11: key "ansible_port": must be an integer from 1 to 65535 (got 70000)'],
    ['become not a boolean', yaml('all:', '  vars:', '    ansible_become: maybe'), 'inv.yml:3:5: key "ansible_become": must be a boolean (true/false, yes/no) (got "maybe")'],
    ['unknown connection type', yaml('all:', '  vars:', '    ansible_connection: docker'), 'inv.yml:3:5: key "ansible_connection": must be ssh or local (got "docker")'],
    ['unsupported become method', yaml('all:', '  vars:', '    ansible_become_method: su'), 'inv.yml:3:5: key "ansible_become_method": must be sudo (the only become method Drover has) (got "su")'],
    ['ProxyCommand we cannot honour', yaml('all:', '  vars:', '    ansible_ssh_common_args: -o ProxyCommand="nc -X 5 %h %p"'), 'inv.yml:3:5: key "ansible_ssh_common_args": ProxyCommand other than "ssh -W %h:%p [user@]bastion" is not supported; set drover_proxy_jump instead (got "-o ProxyCommand=\\"nc -X 5 %h %p\\"")'],
    ['YAML syntax error', yaml('all:', '  hosts:', '    h1:', '   bad: 1'), 'inv.yml:3:8: YAML syntax error: All mapping items must start at the same column'],
    ['tab indentation', yaml('all:', '\thosts:'), 'inv.yml:2:1: YAML syntax error: Tabs are not allowed as indentation'],
    ['duplicate key', yaml('all:', '  hosts:', '    h1:', '    h1:'), 'inv.yml:4:5: key "h1": YAML syntax error: duplicate key in a mapping'],
    ['not a mapping', yaml('- all'), 'inv.yml:1:1: an inventory must be a mapping of group names (all:, ...)'],
    ['inventory plugin config', yaml('plugin: aws_ec2', 'regions: [x]'), 'inv.yml:1:1: key "plugin": inventory plugins are not supported; list the hosts instead'],
    ['vault value', yaml('all:', '  vars:', '    db_pass: !vault |', '      $ANSIBLE_VAULT;1.1;AES256'), 'inv.yml:3:5: key "db_pass": Ansible Vault values are not supported; pass the secret with -e or an environment variable'],
    ['bad host range', yaml('all:', '  hosts:', '    web[a:3]:'), 'inv.yml:3:5: key "web[a:3]": bad host entry: range [a:3] must be numbers ([01:10]) or single letters ([a:f])'],
    ['children loop', yaml('a:', '  children:', '    b:', '      children:', '        a:'), 'inv.yml:5:9: key "a": group "a" is its own descendant through "b" (children form a loop)'],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      const e = inputError(() => parseInventoryText(text, 'inv.yml'));
      expect(e).toBeInstanceOf(InputError);
      expect(e.exitCode).toBe(EXIT.invalidInput);
      expect(e.message).toBe(message);
    });
  }

  it('JSON syntax errors have positions too', () => {
    const e = inputError(() => parseInventoryText('{\n  "all": {\n    "hosts": {"a": null,}\n', 'inv.json'));
    expect(e.message).toMatch(/^inv\.json:\d+:\d+: JSON syntax error: /);
    expect(e.pos?.line).toBeGreaterThan(0);
  });
});

describe('secrets never appear in error text', () => {
  it('an INI error on a line holding a password', () => {
    const e = inputError(() => parseInventoryText('[web]\nh1 ansible_password=hunter2222 ansible_prot=22\n', 'h.ini'));
    expect(e.message).toBe('h.ini:2:32: key "ansible_prot": unknown connection variable: did you mean ansible_port?');
    expect(redact('pw hunter2222')).toBe(`pw ${REDACTED}`); // registered before the error
  });

  it('a misspelt password variable: value not shown, still registered as a secret', () => {
    const e = inputError(() => parseInventoryText(yaml('all:', '  vars:', '    ansible_pasword: hunter3333'), 'inv.yml'));
    expect(e.message).not.toContain('hunter3333');
    expect(e.message).toContain('did you mean ansible_password?');
    expect(redact('hunter3333')).toBe(REDACTED);
  });

  it('a secret of the wrong type is described, not printed', () => {
    const e = inputError(() => parseInventoryText(yaml('all:', '  vars:', '    ansible_become_password: [hunter4444]'), 'inv.yml'));
    expect(e.message).toBe('inv.yml:3:5: key "ansible_become_password": must be a non-empty string (got a list)');
  });

  it('a YAML syntax error inside a password does not quote the source', () => {
    const e = inputError(() => parseInventoryText(yaml('all:', '  vars:', '    ansible_password: "hunter5555', '    x: 1'), 'inv.yml'));
    expect(e.message).toMatch(/^inv\.yml:\d+:\d+: YAML syntax error: /);
    expect(e.message).not.toContain('hunter5555');
  });

  it('numeric passwords are registered as text, and loading registers every secret var', () => {
    parseInventoryText(yaml('all:', '  vars:', '    ansible_ssh_pass: 12345678', '    ansible_become_pass: "sudo-pw-1"'), 'inv.yml');
    expect(redact('12345678 sudo-pw-1')).toBe(`${REDACTED} ${REDACTED}`);
  });
});
