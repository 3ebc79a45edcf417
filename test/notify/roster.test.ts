import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { isShaobingError } from '../../core/errors';
import { YamlValidationError } from '../../core/yaml-file';
import { formatWho, registerDutyCommands } from '../../notify/cli';
import { dutyPerson, loadRoster, onDuty, RosterSchema, rotationShift } from '../../notify/roster';
import { runCli } from '../support/cli';
import { bj, testRoster } from './helpers';

describe('rotation math', () => {
  const roster = testRoster();
  const rotation = roster.rotations[0]!;

  it.each([
    ['2026-03-02 09:00', 'zhang'],
    ['2026-03-03 08:59', 'zhang'],
    ['2026-03-03 09:00', 'li'],
    ['2026-03-04 23:30', 'wang'],
    ['2026-03-05 00:10', 'wang'],
    ['2026-03-05 09:00', 'zhang'],
    ['2026-04-01 12:00', ['zhang', 'li', 'wang'][30 % 3]],
  ])('at %s Beijing time %s is on duty', (at, person) => {
    expect(dutyPerson(roster, bj(at))).toBe(person);
  });

  it('hands over at the handover time, in the roster zone, and reports the shift bounds', () => {
    const shift = rotationShift(rotation, bj('2026-03-03 20:00'), 'Asia/Shanghai')!;
    expect(shift).toMatchObject({ person: 'li', source: 'rotation' });
    expect(new Date(shift.from).toISOString()).toBe('2026-03-03T01:00:00.000Z');
    expect(new Date(shift.to).toISOString()).toBe('2026-03-04T01:00:00.000Z');
  });

  it('has nobody before the rotation starts', () => {
    expect(dutyPerson(roster, bj('2026-03-02 08:59'))).toBeUndefined();
  });

  it('turns weekly on the start weekday', () => {
    const weekly = testRoster({ rotations: [{ id: 'w', shift: 'weekly', handover: '18:00', start: '2026-03-06', members: ['zhang', 'li'] }] });
    expect(dutyPerson(weekly, bj('2026-03-06 18:00'))).toBe('zhang');
    expect(dutyPerson(weekly, bj('2026-03-13 17:59'))).toBe('zhang');
    expect(dutyPerson(weekly, bj('2026-03-13 18:00'))).toBe('li');
    expect(dutyPerson(weekly, bj('2026-03-20 18:00'))).toBe('zhang');
  });

  it('lets overrides (holidays, swaps) win for their span, the latest listed first', () => {
    const holiday = testRoster({
      overrides: [
        { rotation: 'primary', person: 'wang', from: '2026-03-03 09:00', to: '2026-03-05 09:00', reason: '节假日值班' },
        { person: 'zhao', from: '2026-03-04 12:00', to: '2026-03-04 14:00', reason: 'swap' },
      ],
    });
    expect(dutyPerson(holiday, bj('2026-03-03 10:00'))).toBe('wang');
    expect(onDuty(holiday, bj('2026-03-04 13:00'))[0]).toMatchObject({ person: 'zhao', source: 'override', reason: 'swap' });
    expect(dutyPerson(holiday, bj('2026-03-04 14:00'))).toBe('wang');
    expect(dutyPerson(holiday, bj('2026-03-05 09:00'))).toBe('zhang');
  });

  it('works in a zone with daylight saving', () => {
    const berlin = testRoster({ time_zone: 'Europe/Berlin', rotations: [{ id: 'p', shift: 'daily', handover: '09:00', start: '2026-03-27', members: ['zhang', 'li'] }] });
    // Clocks go forward on 2026-03-29: the 09:00 handover is 07:00Z that day, 08:00Z the day before.
    expect(dutyPerson(berlin, Date.parse('2026-03-28T07:59:00Z'))).toBe('zhang');
    expect(dutyPerson(berlin, Date.parse('2026-03-28T08:00:00Z'))).toBe('li');
    expect(dutyPerson(berlin, Date.parse('2026-03-29T06:59:00Z'))).toBe('li');
    expect(dutyPerson(berlin, Date.parse('2026-03-29T07:00:00Z'))).toBe('zhang');
  });
});

describe('roster file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-roster-'));

  it('reports unknown people and keys with file:line:col', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ['people:', '  - { id: zhang, name: 张三, mobile: "13800000001" }', 'leaders: [zhao]', 'rotations:', '  - id: primary', '    shift: daily', '    start: 2026-03-02', '    members: [zhang]', '    handovr: "09:00"', ''].join('\n'));
    const error = (() => {
      try {
        loadRoster(file);
      } catch (e) {
        return e;
      }
    })() as YamlValidationError;
    expect(isShaobingError(error, 'SB_CONFIG_INVALID')).toBe(true);
    expect(error.message).toContain(`${file}:3:11: leaders[0]: unknown person "zhao"`);
    expect(error.message).toContain(`${file}:9:5: rotations[0].handovr: unknown key "handovr"`);
  });

  it('refuses an override that ends before it starts, and an unknown zone', () => {
    const base = { people: [{ id: 'a', name: 'A' }], rotations: [{ id: 'r', shift: 'daily', start: '2026-01-01', members: ['a'] }] };
    expect(RosterSchema.safeParse({ ...base, overrides: [{ person: 'a', from: '2026-01-02 09:00', to: '2026-01-02 08:00' }] }).success).toBe(false);
    expect(RosterSchema.safeParse({ ...base, time_zone: 'Mars/Olympus' }).success).toBe(false);
    expect(RosterSchema.parse(base).time_zone).toBe('Asia/Shanghai');
  });

  it('`duty who --at` prints who holds each rotation', async () => {
    const file = join(dir, 'roster.yaml');
    writeFileSync(file, ['people:', '  - { id: zhang, name: 张三, mobile: "13800000001" }', '  - { id: li, name: 李四 }', 'leaders: [zhang]', 'rotations:', '  - { id: primary, shift: daily, start: 2026-03-02, members: [zhang, li] }', ''].join('\n'));
    let output = '';
    const program = registerDutyCommands(new Command().exitOverride(), { stdout: (t) => (output += t) });
    await program.parseAsync(['node', 'x', 'duty', 'who', '--roster', file, '--at', '2026-03-03 10:00']);
    expect(output).toContain('on duty at 2026-03-03T10:00:00+08:00 (Asia/Shanghai):');
    expect(output).toContain('primary: 李四 (li, no mobile) from 2026-03-03T09:00:00+08:00 to 2026-03-04T09:00:00+08:00');
    expect(output).toContain('leaders: 张三');
    expect(formatWho(loadRoster(file), bj('2026-03-03 08:00'), true)).toBe(
      '{"rotation":"primary","person":"zhang","name":"张三","from":"2026-03-02T09:00:00+08:00","to":"2026-03-03T09:00:00+08:00","source":"rotation"}\n',
    );
  });

  it('`shaobing duty who` runs from the real CLI', async () => {
    const file = join(dir, 'cli-roster.yaml');
    writeFileSync(file, ['people: [{ id: zhang, name: 张三 }]', 'rotations: [{ id: primary, shift: weekly, start: 2026-03-02, members: [zhang] }]', ''].join('\n'));
    const result = await runCli(['duty', 'who', '--roster', file, '--at', '2026-03-10T12:00:00+08:00', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ rotation: 'primary', person: 'zhang', from: '2026-03-09T09:00:00+08:00' });
  });
});
