function conn = connect_to_db(varargin)
% CONNECT_TO_DB  A stand-in for the original's database connection: fusionpipe answers these
%   helpers from the node's identity file, so there is no database to connect to. The value
%   can be passed to (and is ignored by) the helpers that took a connection.
  conn = [];
end
