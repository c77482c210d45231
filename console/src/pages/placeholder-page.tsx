import type { PageProps } from './page-props.ts';

/** Stands in for a page another branch builds (replaced by its line in app.tsx). */
export function PlaceholderPage(props: PageProps & { title: string }) {
  return (
    <section>
      <h1>{props.title}</h1>
      <p>This page is not part of this build.</p>
    </section>
  );
}
