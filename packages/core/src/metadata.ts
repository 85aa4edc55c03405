/** One metadata value: a string, number, boolean or list of strings. */
export type MetadataValue = string | number | boolean | string[];
/** Record metadata: a flat object of strings, numbers, booleans and lists of strings. */
export type Metadata = Record<string, MetadataValue>;
