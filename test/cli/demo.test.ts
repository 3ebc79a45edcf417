import { runCli } from '../support/cli';

describe('shaobing demo', () => {
  it('replays the bundled documents offline and shows alerts opening and escalating, with a summary', async () => {
    const { code, stdout, stderr } = await runCli(['demo', '--seconds', '3'], { timeoutMs: 200_000 });
    expect({ code, stderr: stderr.trim() }).toEqual({ code: 0, stderr: '' });
    const events = stdout.split('\n').filter((line) => /^\[\d\d-\d\d \d\d:\d\d\] [一二三]级 /.test(line));
    expect(events.filter((line) => line.includes('新预警')).length).toBeGreaterThan(10);
    expect(events.filter((line) => line.includes('升级')).length).toBeGreaterThan(0);
    expect(stdout).toMatch(/^179 documents stored in \d+ event clusters \((\d+) with copies or reposts\)$/m);
    const alerts = /^(\d+) alerts: (.*); (\d+) escalations$/m.exec(stdout);
    expect(alerts).not.toBeNull();
    expect(Number(alerts![1])).toBe(events.filter((line) => line.includes('新预警')).length);
    expect(alerts![2]).toMatch(/一级 \d+/);
    expect(stdout).toMatch(/^most severe: 一级 /m);
  }, 240_000);
});
