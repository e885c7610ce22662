import { describe, expect, it } from 'vitest';
import { checkPlaceholders, expandPlaceholders, instancesPattern } from '../../src/gates/placeholders.ts';

const sides = {
  stable: { slot: 'blue' as const, addresses: ['10.0.0.5:8080', '10.0.0.7:8080'] },
  canary: { slot: 'green' as const, addresses: ['[::1]:8080'] },
};

describe('gate placeholders', () => {
  it('fill the instances of each side as a regex with no backslash, and the slot names', () => {
    const query = 'sum(x{instance=~"{canary-instances}", slot="{canary-slot}"}) / sum(x{instance=~`{stable-instances}`})';
    expect(expandPlaceholders(query, sides)).toBe(
      'sum(x{instance=~".::1.:8080", slot="green"}) / sum(x{instance=~`10[.]0[.]0[.]5:8080|10[.]0[.]0[.]7:8080`})',
    );
  });

  it('give a pattern that matches exactly the addresses', () => {
    const pattern = new RegExp(`^(?:${instancesPattern(sides.stable.addresses)})$`);
    expect(pattern.test('10.0.0.5:8080')).toBe(true);
    expect(pattern.test('10x0.0.5:8080')).toBe(false);
    expect(new RegExp(`^(?:${instancesPattern(['[::1]:80'])})$`).test('[::1]:80')).toBe(true);
  });

  it('refuse an unknown placeholder, or a slot one without slots', () => {
    expect(() => checkPlaceholders('x{instance=~"{canary-instance}"}', 'errors: query', 'gate', true)).toThrow(
      /\{canary-instance\} is not a placeholder/,
    );
    expect(() => checkPlaceholders('x{slot="{stable-slot}"}', 'errors: query', 'gate', false)).toThrow(
      /needs a router with blue and green slots/,
    );
    expect(() => checkPlaceholders('x{slot="{stable-slot}"}', 'errors: query', 'gate', true)).not.toThrow();
  });
});
