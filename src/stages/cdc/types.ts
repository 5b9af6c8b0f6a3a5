/** What other stages may know of change capture. */

/**
 * The comment pgferry puts on the publications it creates for incremental tasks: the schema stage
 * leaves such publications out (they are pgferry's, not the application's).
 */
export const CAPTURE_PUBLICATION_COMMENT = 'pgferry change capture; dropped by pgferry finish';
