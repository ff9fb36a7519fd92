/**
 * The pages of the browser app, one module each under web/src/pages/<page>/page.tsx.
 *
 * Adding a page is one file and one entry here:
 *   1. web/src/pages/<name>/page.tsx exports a component that draws itself in the frame:
 *        export function PatientsPage() { return <Shell actions={…}>…</Shell>; }
 *      (its own panels in web/src/panels/, its pure view adapters next to it with unit tests);
 *   2. an entry below: `{ path: '/patients/:id', component: lazy(() => import('../pages/patients/page.js').then((m) => m.PatientsPage)), nav: 'web.nav.patients' }`
 *      (`lazy` from preact-iso keeps the page in a chunk of its own, loaded when first opened;
 *      `nav` is the i18n key of its header link, left out for pages reached from another page;
 *      path parameters arrive as props, see preact-iso's Route).
 * The header shows the links once there are two of them. A page at a deep path is loaded by the
 * server's static plugin only if it answers that path with index.html (today it serves files:
 * the first such page adds that fallback there) — the assessment page lives at `/`.
 */
import type { ComponentType } from 'preact';
import { AssessmentPage } from '../pages/assessment/page.js';

export interface AppRoute {
  /** preact-iso path pattern ('/', '/patients/:id') */
  path: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pages take their own route params
  component: ComponentType<any>;
  /** i18n key of the page's link in the header; none for pages reached from another page */
  nav?: string;
}

export const ROUTES: AppRoute[] = [
  { path: '/', component: AssessmentPage, nav: 'web.nav.assessment' },
  // the address the server also answers with the app (`/index.html`): the same page
  { path: '/index.html', component: AssessmentPage },
];
