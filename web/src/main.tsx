/** calcdx in the browser: the app (app/app.tsx) drawn into index.html's #app. */
import { render } from 'preact';
import { App } from './app/app.js';

render(<App />, document.getElementById('app')!);
