// A minimal terminal for tests: applies printable characters (wrapping at the width), newlines,
// cursor-up (ESC[nA) and erase-below (ESC[0J) to a screen, and records every wrapped row.
export class VirtualTerminal {
  screen: string[][] = [[]];
  row = 0;
  col = 0;
  wraps = 0;
  constructor(readonly width: number) {}

  write(text: string): void {
    const re = /\x1b\[(\d*)([AJK])|([\s\S])/g;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m[2] === 'A') this.row = Math.max(0, this.row - Number(m[1] || 1));
      else if (m[2] === 'J') {
        this.line().length = Math.min(this.line().length, this.col);
        this.screen.length = this.row + 1;
      } else if (m[3] === '\n') this.newline();
      else if (m[3] === '\r') this.col = 0;
      else if (m[3] !== undefined) this.put(m[3]);
    }
  }

  private line(): string[] {
    while (this.screen.length <= this.row) this.screen.push([]);
    return this.screen[this.row];
  }

  private newline(): void {
    this.row++;
    this.col = 0;
    this.line();
  }

  private put(ch: string): void {
    if (this.col >= this.width) {
      this.wraps++;
      this.newline();
    }
    const l = this.line();
    while (l.length < this.col) l.push(' ');
    l[this.col++] = ch;
  }

  text(): string[] {
    return this.screen.map((l) => l.join('').trimEnd());
  }
}
