import { compileTopics, type MatchInput } from '../../rules/matcher';
import { POSTS, topic } from './fixtures';

function matched(input: MatchInput, ...topics: Parameters<typeof topic>[0][]): string[] {
  return compileTopics(topics.map(topic))
    .match(input)
    .map((m) => m.topic.id);
}

const zhuhai = POSTS.zhuhaiBlast;

describe('matcher', () => {
  it('needs one keyword of every group, and none of the excluded ones', () => {
    const groups = { region: ['珠海', '广东'], subject: ['化工厂', '石化'], event: ['爆炸', '起火'] };
    expect(matched(zhuhai, { id: 'blast', ...groups })).toEqual(['blast']);
    expect(matched(zhuhai, { id: 'wrong-place', ...groups, region: ['武汉'] })).toEqual([]);
    expect(matched(zhuhai, { id: 'drill', ...groups, exclude: ['演练', '救援'] })).toEqual([]);
    expect(matched(zhuhai, { id: 'no-drill', ...groups, exclude: ['演练'] })).toEqual(['no-drill']);
  });

  it('matches keywords inside longer words, as analysts expect', () => {
    expect(matched({ title: '', text: '发生大爆炸' }, { id: 't', event: ['爆炸'] })).toEqual(['t']);
  });

  it('matches across Traditional, full-width and case differences, with offsets into the original', () => {
    const input = { title: '', text: '廣東珠海一化工廠發生爆炸，ＣＣＴＶ報道' };
    const [hit] = compileTopics([topic({ id: 't', subject: ['化工厂'], event: ['爆炸'], expr: 'cctv' })]).match(input);
    expect(hit?.hits.map((h) => [h.term, input.text.slice(h.start, h.end)])).toEqual([
      ['化工厂', '化工廠'],
      ['爆炸', '爆炸'],
      ['cctv', 'ＣＣＴＶ'],
    ]);
  });

  it('reports hits per field with original offsets, title first, without keywords nested in longer ones', () => {
    const [hit] = compileTopics([topic({ id: 't', subject: ['化工厂', '工厂'], event: ['爆炸'], expr: '珠海-演练' })]).match(zhuhai);
    expect(hit?.groups).toEqual(['subject', 'event', 'expr']);
    expect(hit?.hits.map((h) => `${h.field}:${h.term}@${h.start}`)).toEqual([
      'title:珠海@1',
      'title:爆炸@6',
      'text:珠海@5',
      'text:化工厂@11',
      'text:爆炸@16',
      'text:爆炸@34',
      'text:珠海@47',
    ]);
    for (const h of hit?.hits ?? []) expect((h.field === 'title' ? zhuhai.title : zhuhai.text).slice(h.start, h.end)).toBe(h.term);
  });

  describe('expressions', () => {
    const doc = { title: '', text: '武汉工地发生坍塌' };
    it.each([
      ['武汉|上海', true],
      ['北京|上海', false],
      ['武汉+坍塌', true],
      ['武汉+爆炸', false],
      ['坍塌-爆炸', true],
      ['坍塌-武汉', false],
      // + and - bind tighter than |:
      ['北京+坍塌|武汉', true], // (北京 and 坍塌) or 武汉
      ['武汉|北京+爆炸', true], // 武汉 or (北京 and 爆炸)
      ['(武汉|北京)+爆炸', false],
      ['武汉|坍塌-工地', true], // 武汉 or (坍塌 and not 工地)
      ['(武汉|坍塌)-工地', false],
      ['武汉-北京-上海+坍塌', true],
      ['"武汉工地"+坍塌', true],
    ])('%s → %s', (expr, expected) => {
      expect(matched(doc, { id: 't', expr })).toEqual(expected ? ['t'] : []);
    });

    it('ANDs the expression with the groups', () => {
      expect(matched(doc, { id: 't', region: ['武汉'], expr: '坍塌' })).toEqual(['t']);
      expect(matched(doc, { id: 't', region: ['北京'], expr: '坍塌' })).toEqual([]);
    });
  });

  describe('near()', () => {
    // "工地" ends at 4; "坍塌" starts at 4 + gap.
    const at = (gap: number): MatchInput => ({ title: '', text: `武汉工地${'一'.repeat(gap)}坍塌` });

    it('allows at most N characters between the two, in either order', () => {
      expect(matched(at(3), { id: 't', expr: 'near(工地, 坍塌, 3)' })).toEqual(['t']);
      expect(matched(at(4), { id: 't', expr: 'near(工地, 坍塌, 3)' })).toEqual([]);
      expect(matched(at(3), { id: 't', expr: 'near(坍塌, 工地, 3)' })).toEqual(['t']);
      expect(matched(at(0), { id: 't', expr: 'near(工地, 坍塌, 0)' })).toEqual(['t']);
      expect(matched(at(1), { id: 't', expr: 'near(工地, 坍塌, 0)' })).toEqual([]);
    });

    it('counts overlapping occurrences as adjacent', () => {
      expect(matched({ title: '', text: '化工厂' }, { id: 't', expr: 'near(化工, 工厂, 0)' })).toEqual(['t']);
    });

    it('takes groups on either side and uses the closest pair', () => {
      const text = '工地倒塌，二十多个字以外很远很远很远很远很远的地方，工厂坍塌';
      expect(matched({ title: '', text }, { id: 't', expr: 'near((工地|工厂), (坍塌|塌陷), 2)' })).toEqual(['t']);
      expect(matched({ title: '', text }, { id: 't', expr: 'near(工地, 坍塌, 20)' })).toEqual([]);
    });

    it('counts whitespace runs as one character', () => {
      expect(matched({ title: '', text: '工地 \n\t 坍塌' }, { id: 't', expr: 'near(工地, 坍塌, 1)' })).toEqual(['t']);
    });

    it('needs both in the same field', () => {
      expect(matched({ title: '工地', text: '坍塌' }, { id: 't', expr: 'near(工地, 坍塌, 100)' })).toEqual([]);
    });
  });

  describe('title:', () => {
    it('counts only occurrences in the title', () => {
      expect(matched(zhuhai, { id: 't', expr: 'title:(爆炸)' })).toEqual(['t']);
      expect(matched(zhuhai, { id: 't', expr: 'title:(化工厂)' })).toEqual([]);
      expect(matched(zhuhai, { id: 't', expr: 'title:(化工厂|石化)+救援' })).toEqual(['t']);
      expect(matched(zhuhai, { id: 't', expr: 'title:(石化-救援)' })).toEqual(['t']); // 救援 is in the text only
      expect(matched(zhuhai, { id: 't', expr: 'title:(石化)-救援' })).toEqual([]);
      expect(matched(zhuhai, { id: 't', expr: 'title:near(石化, 爆炸, 1)' })).toEqual(['t']);
      expect(matched(zhuhai, { id: 't', expr: 'title:near(化工厂, 爆炸, 5)' })).toEqual([]);
    });

    it('reports a title-only keyword only where it counts', () => {
      const [hit] = compileTopics([topic({ id: 't', expr: 'title:(珠海)+救援' })]).match(zhuhai);
      expect(hit?.hits.map((h) => `${h.field}:${h.term}`)).toEqual(['title:珠海', 'text:救援']);
    });
  });

  it('never reports excluded or negated words as hits', () => {
    const [hit] = compileTopics([topic({ id: 't', event: ['爆炸'], exclude: ['演习'], expr: '珠海-演练' })]).match(zhuhai);
    expect(new Set(hit?.hits.map((h) => h.term))).toEqual(new Set(['爆炸', '珠海']));
  });

  it('finds a topic among 10,000 others that share its keywords, and only the right ones', () => {
    const others = Array.from({ length: 10_000 }, (_, i) =>
      topic({
        id: `other-${i}`,
        // Every other topic shares a keyword with the post, but misses a group or is excluded.
        region: [`地点${i}号`, i % 2 === 0 ? '珠海' : '广州'],
        subject: [`主体${i}号`, '化工厂'],
        event: i % 3 === 0 ? [`事件${i}号`] : ['爆炸', `事件${i}号`],
        exclude: i % 2 === 0 ? ['救援'] : undefined,
      }),
    );
    const wanted = topic({ id: 'zhuhai-blast', region: ['珠海'], subject: ['化工厂', '石化'], event: ['爆炸'], expr: 'near(化工厂, 爆炸, 5)' });
    const matcher = compileTopics([...others.slice(0, 5000), wanted, ...others.slice(5000)]);
    expect(matcher.topics).toHaveLength(10_001);
    expect(matcher.match(zhuhai).map((m) => m.topic.id)).toEqual(['zhuhai-blast']);
    expect(matcher.match({ title: '', text: '地点77号主体77号事件77号' }).map((m) => m.topic.id)).toEqual(['other-77']);
    expect(matcher.match({ title: '无关', text: '今天天气很好' })).toEqual([]);
  });

  it('refuses a topic it cannot compile', () => {
    expect(() => compileTopics([topic({ id: 'a', event: ['x'] }), topic({ id: 'a', event: ['y'] })])).toThrow(/duplicate topic id "a"/);
    expect(() => compileTopics([{ ...topic({ id: 'a', event: ['x'] }), expr: 'a+' }])).toThrow(/topic "a": expr: expected a keyword/);
    expect(() => compileTopics([{ ...topic({ id: 'a', event: ['x'] }), event: ['\u200b'] }])).toThrow(/topic "a": keyword .* is empty once normalised/);
  });
});
