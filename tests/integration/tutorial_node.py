#!/usr/bin/env python3
"""The tutorial's Flask blockchain node ("Learn Blockchains by Building One"), kept in the
tutorial's shape so integration tests can mesh it with gossipchain nodes and compare answers.

Transcribed from the seed text (Blockchain class, /mine, /chain, /nodes/register,
/nodes/resolve with requests.get), with /transactions/new as the tutorial's later versions
write it. Differences from the tutorial, all opt-in or needed to run it under test:
  --port / --host        where to listen (the tutorial hard-codes 0.0.0.0:5000)
  --pow seed|linked      seed: sha256(f'{last_proof}{proof}'), the seed text's rule;
                         linked: sha256(f'{last_proof}{proof}{last_hash}'), the later fix
  --difficulty N         leading zeros required (the tutorial's '0000' is N=4)
  --genesis-timestamp T  genesis uses T instead of time(), so it can equal gossipchain's genesis
  requests.get has a timeout, so a dead neighbour cannot hang /nodes/resolve forever.
  --junk-chain KIND      test-only: GET /chain answers --junk-bytes of junk of this kind instead
                         of the chain (a hostile "tutorial node" for /nodes/resolve); KIND is
                         numbers ({"chain":[1,1,...]}, tiny JSON values), nested ([[[...]]]),
                         text (not JSON), blocks (copies of one block), or string ({"chain":"xxx..."})
  --junk-stream          with --junk-chain: send the junk without Content-Length (chunked)
"""

import argparse
import hashlib
import json
from time import time
from urllib.parse import urlparse
from uuid import uuid4

import requests
from flask import Flask, Response, jsonify, request


class Blockchain(object):
    def __init__(self, pow_rule='linked', difficulty=4, genesis_timestamp=None):
        self.chain = []
        self.current_transactions = []
        self.nodes = set()
        self.pow_rule = pow_rule
        self.difficulty = difficulty

        # Create the genesis block
        self.new_block(previous_hash=1, proof=100, timestamp=genesis_timestamp)

    def register_node(self, address):
        """
        Add a new node to the list of nodes
        :param address: Address of node. Eg. 'http://192.168.0.5:5000'
        """
        parsed_url = urlparse(address)
        if parsed_url.netloc:
            self.nodes.add(parsed_url.netloc)
        elif parsed_url.path:
            # Accepts an URL without scheme like '192.168.0.5:5000'.
            self.nodes.add(parsed_url.path)
        else:
            raise ValueError('Invalid URL')

    def valid_chain(self, chain):
        """
        Determine if a given blockchain is valid
        :param chain: A blockchain
        :return: True if valid, False if not
        """
        last_block = chain[0]
        current_index = 1

        while current_index < len(chain):
            block = chain[current_index]
            print(f'{last_block}')
            print(f'{block}')
            print("\n-----------\n")
            # Check that the hash of the block is correct
            last_block_hash = self.hash(last_block)
            if block['previous_hash'] != last_block_hash:
                return False

            # Check that the Proof of Work is correct
            if not self.valid_proof(last_block['proof'], block['proof'], last_block_hash):
                return False

            last_block = block
            current_index += 1

        return True

    def resolve_conflicts(self):
        """
        This is our Consensus Algorithm, it resolves conflicts
        by replacing our chain with the longest one in the network.
        :return: True if our chain was replaced, False if not
        """
        neighbours = self.nodes
        new_chain = None

        # We're only looking for chains longer than ours
        max_length = len(self.chain)

        # Grab and verify the chains from all the nodes in our network
        for node in neighbours:
            response = requests.get(f'http://{node}/chain', timeout=30)

            if response.status_code == 200:
                length = response.json()['length']
                chain = response.json()['chain']

                # Check if the length is longer and the chain is valid
                if length > max_length and self.valid_chain(chain):
                    max_length = length
                    new_chain = chain

        # Replace our chain if we discovered a new, valid chain longer than ours
        if new_chain:
            self.chain = new_chain
            return True

        return False

    def new_block(self, proof, previous_hash=None, timestamp=None):
        """
        Create a new Block in the Blockchain
        :param proof: The proof given by the Proof of Work algorithm
        :param previous_hash: Hash of previous Block
        :param timestamp: Only for genesis: a fixed timestamp shared by a whole network
        :return: New Block
        """
        block = {
            'index': len(self.chain) + 1,
            'timestamp': timestamp if timestamp is not None else time(),
            'transactions': self.current_transactions,
            'proof': proof,
            'previous_hash': previous_hash or self.hash(self.chain[-1]),
        }

        # Reset the current list of transactions
        self.current_transactions = []

        self.chain.append(block)
        return block

    def new_transaction(self, sender, recipient, amount):
        """
        Creates a new transaction to go into the next mined Block
        :param sender: Address of the Sender
        :param recipient: Address of the Recipient
        :param amount: Amount
        :return: The index of the Block that will hold this transaction
        """
        self.current_transactions.append({
            'sender': sender,
            'recipient': recipient,
            'amount': amount,
        })

        return self.last_block['index'] + 1

    @property
    def last_block(self):
        return self.chain[-1]

    @staticmethod
    def hash(block):
        """
        Creates a SHA-256 hash of a Block
        :param block: Block
        """
        # We must make sure that the Dictionary is Ordered, or we'll have inconsistent hashes
        block_string = json.dumps(block, sort_keys=True).encode()
        return hashlib.sha256(block_string).hexdigest()

    def proof_of_work(self, last_block):
        """
        Simple Proof of Work Algorithm:
         - Find a number p' such that hash(pp') contains leading 4 zeroes
         - Where p is the previous proof, and p' is the new proof
        """
        last_proof = last_block['proof']
        last_hash = self.hash(last_block)

        proof = 0
        while self.valid_proof(last_proof, proof, last_hash) is False:
            proof += 1

        return proof

    def valid_proof(self, last_proof, proof, last_hash):
        """
        Validates the Proof
        :param last_proof: Previous Proof
        :param proof: Current Proof
        :param last_hash: The hash of the Previous Block (used by the linked rule only)
        :return: True if correct, False if not.
        """
        if self.pow_rule == 'seed':
            guess = f'{last_proof}{proof}'.encode()
        else:
            guess = f'{last_proof}{proof}{last_hash}'.encode()
        guess_hash = hashlib.sha256(guess).hexdigest()
        return guess_hash[:self.difficulty] == '0' * self.difficulty


# Instantiate the Node
app = Flask(__name__)

# Generate a globally unique address for this node
node_identifier = str(uuid4()).replace('-', '')

# Instantiate the Blockchain (replaced in main() once the options are known)
blockchain = Blockchain()


@app.route('/mine', methods=['GET'])
def mine():
    # We must receive a reward for finding the proof.
    # The sender is "0" to signify that this node has mined a new coin.
    blockchain.new_transaction(
        sender="0",
        recipient=node_identifier,
        amount=1,
    )

    # We run the proof of work algorithm to get the next proof...
    last_block = blockchain.last_block
    proof = blockchain.proof_of_work(last_block)

    # Forge the new Block by adding it to the chain
    previous_hash = blockchain.hash(last_block)
    block = blockchain.new_block(proof, previous_hash)

    response = {
        'message': "New Block Forged",
        'index': block['index'],
        'transactions': block['transactions'],
        'proof': block['proof'],
        'previous_hash': block['previous_hash'],
    }
    return jsonify(response), 200


@app.route('/transactions/new', methods=['POST'])
def new_transaction():
    values = request.get_json()

    # Check that the required fields are in the POST'ed data
    required = ['sender', 'recipient', 'amount']
    if not all(k in values for k in required):
        return 'Missing values', 400

    # Create a new Transaction
    index = blockchain.new_transaction(values['sender'], values['recipient'], values['amount'])

    response = {'message': f'Transaction will be added to Block {index}'}
    return jsonify(response), 201


# Test-only: the junk GET /chain answers with (--junk-chain), built once at start.
junk_chain = None
junk_stream = False


def make_junk(kind, size):
    """About `size` bytes of junk of one kind, as bytes."""
    if kind == 'numbers':
        count = max(1, (size - 30) // 2)
        return b'{"chain":[' + b','.join([b'1'] * count) + b'],"length":1}'
    if kind == 'nested':
        depth = size // 2
        return b'[' * depth + b']' * depth
    if kind == 'text':
        return b'<html>' + b'x' * max(0, size - 6)
    if kind == 'string':
        return b'{"chain":"' + b'x' * max(0, size - 30) + b'","length":1}'
    if kind == 'blocks':
        block = json.dumps({'index': 2, 'previous_hash': '0' * 64, 'proof': 1,
                            'timestamp': 1700000001.5, 'transactions': []}).encode()
        count = max(1, size // (len(block) + 1))
        return (b'{"chain":[' + b','.join([block] * count) + b'],"length":' +
                str(count).encode() + b'}')
    raise ValueError(kind)


@app.route('/chain', methods=['GET'])
def full_chain():
    if junk_chain is not None:
        if junk_stream:
            step = 1 << 16
            pieces = (junk_chain[i:i + step] for i in range(0, len(junk_chain), step))
            return Response(pieces, mimetype='application/json')
        return Response(junk_chain, mimetype='application/json')
    response = {
        'chain': blockchain.chain,
        'length': len(blockchain.chain),
    }
    return jsonify(response), 200


@app.route('/nodes/register', methods=['POST'])
def register_nodes():
    values = request.get_json()

    nodes = values.get('nodes')
    if nodes is None:
        return "Error: Please supply a valid list of nodes", 400

    for node in nodes:
        blockchain.register_node(node)

    response = {
        'message': 'New nodes have been added',
        'total_nodes': list(blockchain.nodes),
    }
    return jsonify(response), 201


@app.route('/nodes/resolve', methods=['GET'])
def consensus():
    replaced = blockchain.resolve_conflicts()

    if replaced:
        response = {
            'message': 'Our chain was replaced',
            'new_chain': blockchain.chain
        }
    else:
        response = {
            'message': 'Our chain is authoritative',
            'chain': blockchain.chain
        }

    return jsonify(response), 200


def main():
    global blockchain, junk_chain, junk_stream
    parser = argparse.ArgumentParser(description="The tutorial's Flask blockchain node")
    parser.add_argument('-p', '--port', default=5000, type=int, help='port to listen on')
    parser.add_argument('--host', default='127.0.0.1', help='address to listen on')
    parser.add_argument('--pow', default='linked', choices=['seed', 'linked'],
                        help='proof-of-work rule')
    parser.add_argument('--difficulty', default=4, type=int,
                        help='leading zero hex digits a proof hash needs')
    parser.add_argument('--genesis-timestamp', default=None, type=float,
                        help="genesis block timestamp (default: time(), as the tutorial)")
    parser.add_argument('--junk-chain', default=None,
                        choices=['numbers', 'nested', 'text', 'blocks', 'string'],
                        help='test-only: answer GET /chain with junk of this kind')
    parser.add_argument('--junk-bytes', default=50_000_000, type=int,
                        help='size of the --junk-chain answer in bytes')
    parser.add_argument('--junk-stream', action='store_true',
                        help='send the --junk-chain answer without Content-Length')
    args = parser.parse_args()
    if args.junk_chain:
        junk_chain = make_junk(args.junk_chain, args.junk_bytes)
        junk_stream = args.junk_stream

    blockchain = Blockchain(pow_rule=args.pow, difficulty=args.difficulty,
                            genesis_timestamp=args.genesis_timestamp)
    app.run(host=args.host, port=args.port)


if __name__ == '__main__':
    main()
