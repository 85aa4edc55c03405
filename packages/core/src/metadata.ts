/** Record metadata: a flat object of strings, numbers, booleans and lists of strings. */
export type MetadataValue = string | number | boolean | string[];
export type Metadata = Record<string, MetadataValue>;
