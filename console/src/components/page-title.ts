/** Sets the document title of a page ("Runs · mlpipe"), so tabs and screen readers name it. */
import { useEffect } from "react";

/** Sets `document.title` to `title · mlpipe` while the page is shown. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · mlpipe`;
  }, [title]);
}
