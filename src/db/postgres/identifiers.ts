import { isCollectionName } from '../../config.ts';

/**
 * A collection name checked before it becomes part of SQL. Table names cannot be bound
 * parameters, so only a name the config accepts (lower-case letters, digits and _) may get
 * there, whoever the caller is.
 */
export function checkedCollection(collection: string): string {
  if (!isCollectionName(collection)) throw new Error(`invalid collection name ${JSON.stringify(collection)}`);
  return collection;
}

/** A collection's table name, quoted: a name that is also an SQL keyword (`user`) stays a name. */
export function quotedTable(collection: string): string {
  return `"${checkedCollection(collection)}"`;
}
