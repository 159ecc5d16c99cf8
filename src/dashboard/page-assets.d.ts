/**
 * dist/src/dashboard/page-assets.js, which `npm run build` writes (scripts/bundle-dashboard.mjs)
 * after tsc: the page's script, browser/main.ts and what it imports bundled by esbuild into one
 * IIFE, and its style, page.css then plot.css.
 */
export declare const script: string;
export declare const style: string;
