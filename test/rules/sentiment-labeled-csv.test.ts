import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLabeledCsv, type LabeledRow } from '../../rules/sentiment/labeled-csv';

const dir = mkdtempSync(join(tmpdir(), 'shaobing-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function read(content: string): Promise<LabeledRow[]> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(file, content);
  const rows: LabeledRow[] = [];
  for await (const row of readLabeledCsv(file)) rows.push(row);
  return rows;
}

test('reads bare and quoted texts, with the header, a BOM and CRLF line ends', async () => {
  const rows = await read('\uFEFFlabel,text\r\n1,房间干净，服务好\r\n0,"太差了,再也不来了"\r\n1,"他说""不错""\r\n真的"\r\n');
  expect(rows).toEqual([
    { line: 2, label: 1, text: '房间干净，服务好' },
    { line: 3, label: 0, text: '太差了,再也不来了' },
    { line: 4, label: 1, text: '他说"不错"\n真的' },
  ]);
});

test('a bare text keeps its commas', async () => {
  expect(await read('0,贵,小,吵')).toEqual([{ line: 1, label: 0, text: '贵,小,吵' }]);
});

test('reports bad records by line and goes on', async () => {
  const rows = await read('label,text\n1,好\n2,什么\n没有逗号\n\n0,"引号后面"还有字\n0,差\n1,"没有闭合\n的引号');
  expect(rows).toEqual([
    { line: 2, label: 1, text: '好' },
    { line: 3, error: 'label must be 1 (positive) or 0 (negative), got "2"' },
    { line: 4, error: 'expected "label,text"' },
    { line: 6, error: 'unexpected "还有字" after the closing quote' },
    { line: 7, label: 0, text: '差' },
    { line: 8, error: 'quoted text is not closed before the end of the file' },
  ]);
});
