// The files of a report folder (validate --report DIR), named once for the writer and for serve --report.
export const REPORT_PAGE = 'index.html';
export const REPORT_DATA = 'report.json';
