/**
 * The `options` startup parameter as PostgreSQL reads it (pg_split_opts + the postgres
 * command-line switches): words split on whitespace, a backslash makes the next character
 * literal, and settings come as `-c name=value`, `-cname=value` or `--name=value`.
 */

export interface OptionWord {
  /** As the client wrote it, escapes included (for rebuilding the string unchanged). */
  raw: string;
  /** With escapes resolved. */
  text: string;
}

export interface OptionSetting {
  /** Normalised as PostgreSQL does for `-c`/`--`: dashes become underscores. */
  name: string;
  /** undefined for `-c name` with no `=`. */
  value?: string;
  /** Indices into the word list this setting spans (1 or 2 words). */
  words: number[];
}

/** Backend switches that take an argument (postgres.c's getopt string, "-" included for --name=value). */
const SWITCHES_WITH_ARGUMENT = new Set(['B', 'C', 'c', 'D', 'd', 'f', 'h', 'k', 'N', 'p', 'r', 'S', 't', 'v', 'W', '-']);

export function splitOptionWords(options: string): OptionWord[] {
  const words: OptionWord[] = [];
  let i = 0;
  while (i < options.length) {
    while (i < options.length && isSpace(options[i] as string)) i++;
    if (i >= options.length) break;
    const start = i;
    let text = '';
    while (i < options.length && !isSpace(options[i] as string)) {
      if (options[i] === '\\' && i + 1 < options.length) i++;
      text += options[i];
      i++;
    }
    words.push({ raw: options.slice(start, i), text });
  }
  return words;
}

/** Every `-c`/`--` setting, in order (later ones win in PostgreSQL). Other switches are skipped. */
export function findSettings(words: readonly OptionWord[]): OptionSetting[] {
  const settings: OptionSetting[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = (words[i] as OptionWord).text;
    if (word === '--') break; // getopt's end of switches
    if (!word.startsWith('-') || word.length < 2) continue; // postgres rejects these; not ours to judge
    for (let j = 1; j < word.length; j++) {
      const letter = word[j] as string;
      if (!SWITCHES_WITH_ARGUMENT.has(letter)) continue; // a flag like -e, possibly grouped
      let argument = word.slice(j + 1);
      const spanned = [i];
      if (argument === '' && i + 1 < words.length) {
        i++;
        argument = (words[i] as OptionWord).text;
        spanned.push(i);
      }
      if (letter === 'c' || letter === '-') settings.push({ ...parseSetting(argument), words: spanned });
      break;
    }
  }
  return settings;
}

/** PostgreSQL's ParseLongOption: split at the first '=', dashes in the name become underscores. */
function parseSetting(argument: string): { name: string; value?: string } {
  const eq = argument.indexOf('=');
  if (eq < 0) return { name: argument.replace(/-/g, '_') };
  return { name: argument.slice(0, eq).replace(/-/g, '_'), value: argument.slice(eq + 1) };
}

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v';
}
