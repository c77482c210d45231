/** The console's entry point, bundled by esbuild at `licensegate serve` start (src/console/console-bundle.ts). */
import { render } from 'preact';
import { App } from './app.tsx';

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
