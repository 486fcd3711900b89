// Nothing: the start-up and RSS floor of a static Swift executable on this machine, under the
// json-startup figures (which add berth's libraries and the documents' reading).
