/**
 * The one way the registry pages load what they show (a list, a table, a timeline): `useLoad(load,
 * deps)` calls `load` when the page opens and again whenever `deps` change or `reload()` is called.
 * An answer that arrives after a newer request was made (the user paged on meanwhile, or left the
 * page) is dropped, so the rows shown are always those of the latest choice. What was shown stays
 * while the next answer loads; an error is kept next to it until an answer arrives.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Loaded<T> {
  /** the latest answer (undefined until the first arrives) */
  data: T | undefined;
  /** the latest request's error (undefined once an answer arrives) */
  error: unknown;
  /** how many times `reload()` was called */
  loads: number;
  reload(): void;
}

export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown }>({ data: undefined, error: undefined });
  const [loads, setLoads] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => { if (live) setState({ data, error: undefined }); },
      (error: unknown) => { if (live) setState((s) => ({ data: s.data, error })); },
    );
    return () => { live = false; };
  // (the caller names what the load depends on)
  }, [...deps, loads]);
  return { data: state.data, error: state.error, loads, reload: () => setLoads((n) => n + 1) };
}
