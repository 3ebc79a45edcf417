import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { createTokenizer, TOKENIZER_KINDS, type TokenizerKind } from '../tokenizer';
import { evaluateLabeledCsv } from './evaluate';
import { createSentimentAnalyzer } from './index';

/** sysexits' EX_NOINPUT. */
const EXIT_NO_INPUT = 66;

interface EvalSentimentFlags {
  data: string;
  json?: boolean;
  tokenizer: TokenizerKind;
}

/** `shaobing eval sentiment`, added to the main program by cli/main.ts. */
export function registerEvalCommands(program: Command): void {
  const evalCommand = program.command('eval').description('measure the analysis models on labeled data');

  evalCommand
    .command('sentiment')
    .description(
      'score a labeled CSV (`label,text`; 1 positive, 0 negative) and print accuracy, macro-F1, count and posts/s ' +
        '(cutting and scoring on one thread); unreadable lines are reported on stderr and skipped',
    )
    .requiredOption('--data <file>', 'the labeled CSV')
    .option('--json', 'print one JSON object: {accuracy, macro_f1, n, docs_per_s}')
    .addOption(new Option('--tokenizer <kind>', 'jieba binding').choices([...TOKENIZER_KINDS]).default('node-rs-jieba'))
    .action(async (flags: EvalSentimentFlags, command: Command) => {
      if (!existsSync(flags.data)) command.error(`cannot read ${flags.data}: no such file`, { exitCode: EXIT_NO_INPUT });
      const tokenizer = createTokenizer(flags.tokenizer);
      const analyzer = createSentimentAnalyzer({ tokenizer });
      const result = await evaluateLabeledCsv(flags.data, analyzer, tokenizer, {
        onBadRow: (line, error) => process.stderr.write(`${flags.data}:${line}: ${error} (skipped)\n`),
        onProgress: (scored) => process.stderr.write(`scored ${scored} posts…\n`),
      });
      if (result.badRows > 0) process.stderr.write(`${result.badRows} line(s) skipped\n`);
      if (result.n === 0) command.error(`${flags.data}: no labeled rows to score`, { exitCode: EXIT_NO_INPUT });
      if (flags.json) {
        const json = { accuracy: result.accuracy, macro_f1: result.macroF1, n: result.n, docs_per_s: Math.round(result.docsPerSecond) };
        process.stdout.write(`${JSON.stringify(json)}\n`);
      } else {
        process.stdout.write(
          [
            `accuracy  ${result.accuracy.toFixed(4)}`,
            `macro-F1  ${result.macroF1.toFixed(4)}`,
            `n         ${result.n}`,
            `posts/s   ${Math.round(result.docsPerSecond)}`,
            '',
          ].join('\n'),
        );
      }
    });
}
