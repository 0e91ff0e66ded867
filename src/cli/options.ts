// Option parsers shared by the commands: each turns a flag's text into a
// checked value or throws InvalidArgumentError, which the entry point prints
// as one line with exit code 2.
import { InvalidArgumentError } from 'commander';

export function number(text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new InvalidArgumentError(`"${text}" is not a number`);
  return v;
}

export function integer(text: string): number {
  const v = number(text);
  if (!Number.isInteger(v)) throw new InvalidArgumentError(`"${text}" is not an integer`);
  return v;
}

export function numberList(text: string): number[] {
  return text.split(',').filter((s) => s.trim() !== '').map(number);
}
