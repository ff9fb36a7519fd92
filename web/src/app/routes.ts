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
 * The header shows the links (those the user's role may open) once there are two of them. A page at
 * a deep path is served by the server's web plugin, which answers a browser's request for a path
 * that is no file with index.html (src/server/plugins/web.ts).
 */
import type { ComponentType } from 'preact';
import { lazy } from 'preact-iso';
import { AssessmentPage } from '../pages/assessment/page.js';
import type { Audience } from './session.js';

export interface AppRoute {
  /** preact-iso path pattern ('/', '/patients/:id') */
  path: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pages take their own route params
  component: ComponentType<any>;
  /** i18n key of the page's link in the header; none for pages reached from another page */
  nav?: string;
  /** who sees its header link ('anonymous': nobody logged in); none: everyone. The page itself checks
   * the role again (<RequireRole>), and the server checks every call. */
  roles?: readonly Audience[];
}

const CLINICAL: Audience[] = ['clinician', 'viewer'];

export const ROUTES: AppRoute[] = [
  { path: '/', component: AssessmentPage, nav: 'web.nav.assessment', roles: ['anonymous', 'clinician', 'viewer', 'admin'] },
  // the address the server also answers with the app (`/index.html`): the same page
  { path: '/index.html', component: AssessmentPage },
  { path: '/login', component: lazy(() => import('../pages/login/page.js').then((m) => m.LoginPage)) },
  { path: '/patients', component: lazy(() => import('../pages/patients/page.js').then((m) => m.PatientsPage)), nav: 'web.nav.patients', roles: CLINICAL },
  { path: '/patients/:id', component: lazy(() => import('../pages/patient/page.js').then((m) => m.PatientPage)) },
  { path: '/worklist', component: lazy(() => import('../pages/worklist/page.js').then((m) => m.WorklistPage)), nav: 'web.nav.worklist', roles: CLINICAL },
  { path: '/performance', component: lazy(() => import('../pages/performance/page.js').then((m) => m.PerformancePage)), nav: 'web.nav.performance', roles: ['clinician', 'viewer', 'admin'] },
  { path: '/admin/users', component: lazy(() => import('../pages/users/page.js').then((m) => m.UsersPage)), nav: 'web.nav.users', roles: ['admin'] },
  { path: '/audit', component: lazy(() => import('../pages/audit/page.js').then((m) => m.AuditPage)), nav: 'web.nav.audit', roles: ['admin', 'auditor'] },
];
