import { useMemo, useState } from "react";
import { ApiClient } from "./api/client";
import { ApiContext } from "./api/context";
import { TokenPrompt } from "./components/token-prompt";
import { useRoute } from "./hooks/use-route";
import type { Route } from "./lib/router";
import { hrefOf } from "./lib/router";
import { Errors } from "./pages/errors";
import { FileDetail } from "./pages/file-detail";
import { Files } from "./pages/files";
import { Overview } from "./pages/overview";
import { Upload } from "./pages/upload";

const NAV: { label: string; route: Route; match: Route["page"][] }[] = [
  { label: "Overview", route: { page: "overview" }, match: ["overview"] },
  { label: "Files", route: { page: "files" }, match: ["files", "file"] },
  { label: "Upload", route: { page: "upload" }, match: ["upload"] },
  { label: "Errors", route: { page: "errors" }, match: ["errors"] },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "overview":
      return <Overview />;
    case "files":
      return <Files {...(route.status ? { status: route.status } : {})} {...(route.q ? { q: route.q } : {})} />;
    case "file":
      return <FileDetail key={route.id} id={route.id} />;
    case "upload":
      return <Upload />;
    case "errors":
      return <Errors />;
    case "not-found":
      return (
        <>
          <h1>Not found</h1>
          <p>
            Nothing at <code>{route.path}</code>. <a href="#/">Back to the overview</a>.
          </p>
        </>
      );
  }
}

export function App() {
  const route = useRoute();
  const [prompt, setPrompt] = useState<{ reason: "missing" | "rejected"; resolve(t: string): void } | null>(null);
  const api = useMemo(
    () => new ApiClient(window.sessionStorage, (reason) => new Promise((resolve) => setPrompt({ reason, resolve }))),
    [],
  );
  return (
    <ApiContext.Provider value={api}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href="#/">
          sluice
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => {
              const current = n.match.includes(route.page);
              return (
                <li key={n.label}>
                  <a className="nav-link" href={hrefOf(n.route)} aria-current={current ? "page" : undefined}>
                    {n.label}
                  </a>
                </li>
              );
            })}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
      {prompt ? (
        <TokenPrompt
          reason={prompt.reason}
          onSubmit={(t) => {
            prompt.resolve(t);
            setPrompt(null);
          }}
        />
      ) : null}
    </ApiContext.Provider>
  );
}
