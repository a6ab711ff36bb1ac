// What a terminal shows for the bytes a program wrote to it: enough of a VT100 for readline's redraws (carriage
// return, line feed, backspace, cursor moves, erase in line and display; colors dropped), so the terminal client's
// tests assert the screen a player sees, not the escape sequences that drew it.

/**
 * A growing screen (no scrolling off the top): feed it output, read the lines.
 * @example
 * const s = new Screen();
 * s.write('> tes\x1b[1G\x1b[0K> testdelay\r\n');
 * s.text(); // → '> testdelay'
 */
export class Screen {
  private lines: string[][] = [[]];
  private row = 0;
  private col = 0;
  private pending = '';

  write(data: string): void {
    const text = this.pending + data;
    this.pending = '';
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '\x1b') {
        const rest = text.slice(i);
        const csi = /^\x1b\[([?>=]?)([\d;]*)([@-~])/.exec(rest);
        if (csi) {
          if (!csi[1]) this.control(csi[3], csi[2]);
          i += csi[0].length - 1;
          continue;
        }
        if (/^\x1b(\[[?>=]?[\d;]*)?$/.test(rest)) {
          this.pending = rest; // a sequence cut between two writes
          return;
        }
        i += 1; // a two-byte escape (ESC =, ESC 7 …): no effect on the text
        continue;
      }
      if (c === '\r') this.col = 0;
      else if (c === '\n') this.moveTo(this.row + 1, this.col);
      else if (c === '\b') this.col = Math.max(0, this.col - 1);
      else if (c >= ' ') {
        const line = this.line(this.row);
        while (line.length < this.col) line.push(' ');
        line[this.col] = c;
        this.col += 1;
      }
    }
  }

  /** The screen's lines, trailing blanks removed, trailing empty lines dropped. */
  text(): string {
    return this.lines
      .map((l) => l.join('').trimEnd())
      .join('\n')
      .replace(/\n+$/, '');
  }

  /** The line the cursor is on (the input line, while the program waits for one). */
  current(): string {
    return this.line(this.row).join('').trimEnd();
  }

  private control(final: string, params: string): void {
    const n = params === '' ? NaN : Number(params.split(';')[0]);
    const count = Number.isNaN(n) || n === 0 ? 1 : n;
    const line = this.line(this.row);
    switch (final) {
      case 'G':
        this.col = count - 1;
        break;
      case 'C':
        this.col += count;
        break;
      case 'D':
        this.col = Math.max(0, this.col - count);
        break;
      case 'A':
        this.moveTo(Math.max(0, this.row - count), this.col);
        break;
      case 'B':
        this.moveTo(this.row + count, this.col);
        break;
      case 'K':
        if (Number.isNaN(n) || n === 0) line.length = Math.min(line.length, this.col);
        else if (n === 1) for (let i = 0; i <= this.col && i < line.length; i++) line[i] = ' ';
        else line.length = 0;
        break;
      case 'J':
        if (Number.isNaN(n) || n === 0) {
          line.length = Math.min(line.length, this.col);
          this.lines.length = this.row + 1;
        }
        break;
      default:
      // colors (m) and modes (h, l) do not change the text
    }
  }

  private moveTo(row: number, col: number): void {
    this.row = row;
    this.col = col;
    this.line(row);
  }

  private line(row: number): string[] {
    while (this.lines.length <= row) this.lines.push([]);
    return this.lines[row];
  }
}
